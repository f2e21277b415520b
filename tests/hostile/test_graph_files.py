"""Hostile graph, label, feature and split files (and the arguments that size a graph).

Every input is written to a temporary folder by this process, then all inputs run in ONE
subprocess under the harness's memory limit (each with its own time limit), through the
public readers (``read_graph``, ``read_features``, ``load_split``, ``sample_csbm``). A case
passes when it ends as the table says: an error (a ``ValueError`` / ``OSError`` subclass, or
``TypeError`` for a wrong type) whose one-line message names the file, line, key or argument;
or a correct run whose result the case checks; or a run with the documented warning.
"""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from _graphbatch import result_of, run_batch, warnings_of
from _harness import assert_py_error, assert_py_ok

OK = "ok"


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def _forged_npy(shape: tuple[int, ...], dtype: str = "<f8", data: bytes = b"") -> bytes:
    """An .npy header declaring ``shape`` followed by ``data`` (normally far too little)."""
    header = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode("latin1")
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


def _npz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for k, v in members.items():
            zf.writestr(k + ".npy", v)
    return buf.getvalue()


def _savez(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _save_sparse(m) -> bytes:
    buf = io.BytesIO()
    sp.save_npz(buf, m)
    return buf.getvalue()


def _sparse_members(fmt: str, shape, **arrays) -> bytes:
    members = {"format": _npy_bytes(np.array(fmt)), "shape": _npy_bytes(np.array(shape, dtype=np.int64))}
    members.update({k: _npy_bytes(np.asarray(v)) for k, v in arrays.items()})
    return _npz(members)


_BILLION_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
                   + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                              for i in range(1, 10))
                   + b']>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns"><key id="d0" for="node" '
                     b'attr.name="label" attr.type="string"/><graph edgedefault="undirected"><node id="a"><data '
                     b'key="d0">&lol9;</data></node></graph></graphml>\n')
_XXE = (b'<?xml version="1.0"?>\n<!DOCTYPE g [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<graphml '
        b'xmlns="http://graphml.graphdrawing.org/xmlns"><key id="d0" for="node" attr.name="label" attr.type="string"/>'
        b'<graph edgedefault="undirected"><node id="a"><data key="d0">&xxe;</data></node><node id="b"/>'
        b'<edge source="a" target="b"/></graph></graphml>\n')


def _graphml(nodes: str, edges: str, keys: str = "", directed: bool = False) -> bytes:
    return (f'<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">{keys}'
            f'<graph edgedefault="{"directed" if directed else "undirected"}">{nodes}{edges}</graph></graphml>'
            ).encode()


_KEY_LABEL = '<key id="l" for="node" attr.name="label" attr.type="double"/>'
_KEY_X = '<key id="x" for="node" attr.name="x" attr.type="double"/>'

# id -> (class, {file name: bytes}, code run in the batch (D = the folder), expectation)
# expectation: ("error", mentions...) | ("type", mentions...) | (OK, expected result) | ("warn", text, expected result)
CASES: dict[str, tuple[str, dict[str, bytes], str, tuple]] = {
    # ---- edge lists: structure
    "edges-empty": ("graph-files", {"e.txt": b""}, "read_graph(D / 'e.txt')", ("error", "e.txt", "no data")),
    "edges-only-comments": ("graph-files", {"e.txt": b"# a\n# b\n"}, "read_graph(D / 'e.txt')",
                            ("error", "e.txt", "no data")),
    "edges-header-only-csv": ("misread", {"e.csv": b"src,dst\n"}, "read_graph(D / 'e.csv')",
                              ("error", "e.csv", "header")),
    "edges-header-only-words": ("misread", {"e.txt": b"source target\n"}, "read_graph(D / 'e.txt')",
                                ("error", "e.txt", "header")),
    "edges-header-then-data": ("misread", {"e.csv": b"src,dst\n0,1\n1,2\n"},
                               "g = read_graph(D / 'e.csv'); result = [g.n_nodes, g.n_edges, g.metadata['header']]",
                               (OK, [3, 2, "src,dst"])),
    "edges-string-header-string-ids": ("misread", {"e.txt": b"source target\nalice bob\n"},
                                       "g = read_graph(D / 'e.txt'); result = [g.n_nodes, g.n_edges]", (OK, [2, 1])),
    "edges-one-column": ("graph-files", {"e.txt": b"1\n2\n"}, "read_graph(D / 'e.txt')",
                         ("error", "e.txt", "line 1", "two columns")),
    "edges-ragged": ("graph-files", {"e.txt": b"0 1\n2\n"}, "read_graph(D / 'e.txt')", ("error", "e.txt")),
    "edges-binary-junk": ("graph-files", {"e.txt": bytes(range(256)) * 4}, "read_graph(D / 'e.txt')",
                          ("error", "e.txt")),
    "edges-latin1-names": ("graph-files", {"e.txt": "café bar\nbar baz\n".encode("latin1")},
                           "g = read_graph(D / 'e.txt'); result = [g.n_nodes, g.n_edges]", ("okerror", [3, 2], "e.txt")),
    "edges-crlf": ("graph-files", {"e.txt": b"0 1\r\n1 2\r\n"},
                   "g = read_graph(D / 'e.txt'); result = [g.n_nodes, g.n_edges]", (OK, [3, 2])),
    "edges-tabs-and-spaces": ("graph-files", {"e.txt": b"0\t1\n1  2\n"},
                              "g = read_graph(D / 'e.txt'); result = [g.n_nodes, g.n_edges]", (OK, [3, 2])),
    "edges-weight-not-number": ("graph-files", {"e.txt": b"0 1 x\n1 2 y\n"}, "read_graph(D / 'e.txt')",
                                ("error", "e.txt", "third")),
    "edges-weight-negative": ("graph-files", {"e.txt": b"0 1 -2\n1 2 1\n"}, "read_graph(D / 'e.txt')",
                              ("error", "e.txt", ">= 0")),
    "edges-weight-nan": ("graph-files", {"e.txt": b"0 1 nan\n1 2 1\n"}, "read_graph(D / 'e.txt')",
                         ("error", "e.txt", "finite")),
    "edges-weight-inf": ("graph-files", {"e.txt": b"0 1 inf\n1 2 1\n"}, "read_graph(D / 'e.txt')",
                         ("error", "e.txt", "finite")),
    "edges-directed-one-way": ("graph-files", {"e.txt": b"0 1\n1 2\n"}, "read_graph(D / 'e.txt', directed=True)",
                               ("error", "e.txt", "symmetrize")),
    "edges-self-loops-only": ("graph-files", {"e.txt": b"0 0\n1 1\n"},
                              "g = read_graph(D / 'e.txt'); result = [g.n_nodes, g.n_edges, "
                              "g.metadata['self_loops_removed']]", (OK, [2, 0, 2])),
    "edges-duplicates": ("graph-files", {"e.txt": b"0 1\n1 0\n0 1\n"},
                         "g = read_graph(D / 'e.txt'); result = [g.n_edges, g.metadata['duplicate_edges']]",
                         (OK, [1, 2])),
    "edges-negative-ids-are-names": ("misread", {"e.txt": b"-1 0\n0 5\n"},
                                     "g = read_graph(D / 'e.txt'); result = [g.n_nodes, g.metadata['node_ids'], "
                                     "g.metadata['node_names'].tolist()]", (OK, [3, "name", [-1, 0, 5]])),
    "edges-float-ids": ("misread", {"e.txt": b"0.5 1.5\n1.5 2.5\n"}, "read_graph(D / 'e.txt')",
                        ("error", "e.txt", "not an integer")),
    "edges-float-ids-as-names": ("misread", {"e.txt": b"0.5 1.5\n1.5 2.5\n"},
                                 "g = read_graph(D / 'e.txt', ids='name'); result = [g.n_nodes, g.n_edges]",
                                 (OK, [3, 2])),
    "edges-int-beyond-64-bits": ("graph-files", {"e.txt": b"99999999999999999999999 1\n1 2\n"},
                                 "read_graph(D / 'e.txt')", ("error", "e.txt", "64 bits")),
    "edges-n-nodes-too-small": ("arguments", {"e.txt": b"0 1\n1 7\n"}, "read_graph(D / 'e.txt', n_nodes=3)",
                                ("error", "n_nodes=3", "e.txt")),
    "edges-n-nodes-negative": ("arguments", {"e.txt": b"0 1\n"}, "read_graph(D / 'e.txt', n_nodes=-4)",
                               ("error", "n_nodes")),
    "edges-format-bogus": ("arguments", {"e.txt": b"0 1\n"}, "read_graph(D / 'e.txt', format='xlsx')",
                           ("error", "format")),
    "edges-ids-bogus": ("arguments", {"e.txt": b"0 1\n"}, "read_graph(D / 'e.txt', ids='guess')", ("error", "ids")),
    "edges-wrong-delimiter": ("graph-files", {"e.txt": b"0 1\n1 2\n"}, "read_graph(D / 'e.txt', delimiter=',')",
                              ("error", "e.txt")),
    "edges-path-is-a-directory": ("graph-files", {}, "read_graph(D)", ("error", "not found")),
    "edges-missing-file": ("graph-files", {}, "read_graph(D / 'nope.txt')", ("error", "nope.txt")),
    "edges-path-wrong-type": ("arguments", {}, "read_graph(5)", ("type", "path")),
    "edges-utf8-bom": ("misread", {"e.txt": b"\xef\xbb\xbf0 1\n1 2\n"},
                       "g = read_graph(D / 'e.txt'); result = [g.n_nodes, g.n_edges]", (OK, [3, 2])),
    "edges-quoted-csv": ("misread", {"e.csv": b'"a","b"\n"b","c"\n'},
                         "g = read_graph(D / 'e.csv'); result = g.metadata['node_names'].tolist()",
                         (OK, ["a", "b", "c"])),
    "edges-matrix-market": ("misread", {"m.mtx": b"%%MatrixMarket matrix coordinate real general\n3 3 2\n1 2 1\n2 3 1\n"},
                            "read_graph(D / 'm.mtx')", ("error", "m.mtx", "Matrix Market")),
    "edges-semicolons": ("graph-files", {"e.txt": b"0;1\n1;2\n"}, "read_graph(D / 'e.txt')",
                         ("error", "e.txt", "delimiter=';'")),
    "edges-trailing-delimiter": ("graph-files", {"e.csv": b"0,1,\n1,2,\n"}, "read_graph(D / 'e.csv')",
                                 ("error", "e.csv", "weighted=False")),
    # ---- tiny files, huge work: ids
    "edges-id-1e8": ("tiny-huge", {"e.txt": b"0 1\n1 100000000\n"},
                     "g = read_graph(D / 'e.txt'); result = [g.n_nodes, g.n_edges, g.metadata['node_ids']]",
                     ("warn", "sparse", [3, 2, "name"])),
    "edges-id-1e15": ("tiny-huge", {"e.txt": b"0 1\n1 1000000000000000\n"},
                      "g = read_graph(D / 'e.txt'); result = [g.n_nodes, g.metadata['node_names'].tolist()]",
                      ("warn", "sparse", [3, [0, 1, 1000000000000000]])),
    "edges-id-1e15-as-index": ("allocation", {"e.txt": b"0 1\n1 1000000000000000\n"},
                               "read_graph(D / 'e.txt', ids='index')", ("error", "e.txt", "ids='name'")),
    "edges-n-nodes-1e12": ("allocation", {"e.txt": b"0 1\n"}, "read_graph(D / 'e.txt', n_nodes=10**12)",
                           ("error", "e.txt", "1000000000000 nodes")),
    "edges-dense-ids-stay-indices": ("misread", {"e.txt": b"0 1\n3 4\n"},
                                     "g = read_graph(D / 'e.txt'); result = [g.n_nodes, g.metadata['node_ids']]",
                                     (OK, [5, "index"])),
    # ---- labels files
    "labels-minus-five": ("misread", {"e.txt": b"0 1\n1 2\n", "l.txt": b"0 -5\n1 0\n"},
                          "read_graph(D / 'e.txt', D / 'l.txt')", ("error", "l.txt", "line 1", "-5")),
    "labels-conflicting-duplicate": ("misread", {"e.txt": b"0 1\n1 2\n", "l.txt": b"0 1\n1 0\n0 2\n"},
                                     "read_graph(D / 'e.txt', D / 'l.txt')", ("error", "l.txt", "lines 1 and 3")),
    "labels-identical-duplicate": ("misread", {"e.txt": b"0 1\n1 2\n", "l.txt": b"0 1\n1 0\n0 1\n"},
                                   "g = read_graph(D / 'e.txt', D / 'l.txt'); "
                                   "result = [g.labels.tolist(), g.metadata['duplicate_label_lines']]",
                                   (OK, [[1, 0, -1], 1])),
    "labels-node-beyond-index": ("misread", {"e.txt": b"0 1\n1 2\n", "l.txt": b"0 1\n9 0\n"},
                                 "read_graph(D / 'e.txt', D / 'l.txt')", ("error", "l.txt", "line 2", "node 9")),
    "labels-node-not-in-edges": ("misread", {"e.txt": b"a b\nb c\n", "l.txt": b"a x\nzed y\n"},
                                 "read_graph(D / 'e.txt', D / 'l.txt')", ("error", "l.txt", "line 2", "zed")),
    "labels-isolated-within-n-nodes": ("misread", {"e.txt": b"0 1\n", "l.txt": b"0 1\n3 0\n"},
                                       "g = read_graph(D / 'e.txt', D / 'l.txt', n_nodes=4); "
                                       "result = g.labels.tolist()", (OK, [1, -1, -1, 0])),
    "labels-header": ("misread", {"e.txt": b"0 1\n1 2\n", "l.txt": b"node label\n0 1\n2 0\n"},
                      "g = read_graph(D / 'e.txt', D / 'l.txt'); result = g.labels.tolist()", (OK, [1, -1, 0])),
    "labels-nan": ("misread", {"e.txt": b"0 1\n1 2\n", "l.txt": b"0 nan\n1 0\n"},
                   "read_graph(D / 'e.txt', D / 'l.txt')", ("error", "l.txt", "line 1")),
    "labels-fractional": ("misread", {"e.txt": b"0 1\n1 2\n", "l.txt": b"0 0.5\n1 1.0\n"},
                          "read_graph(D / 'e.txt', D / 'l.txt')", ("error", "l.txt", "line 1", "0.5")),
    "labels-integral-floats": ("misread", {"e.txt": b"0 1\n1 2\n", "l.txt": b"0 1.0\n1 0.0\n"},
                               "g = read_graph(D / 'e.txt', D / 'l.txt'); result = g.labels.tolist()",
                               (OK, [1, 0, -1])),
    "labels-names": ("misread", {"e.txt": b"0 1\n1 2\n", "l.txt": b"0 cat\n1 dog\n2 cat\n"},
                     "g = read_graph(D / 'e.txt', D / 'l.txt'); result = [g.labels.tolist(), "
                     "g.metadata['class_names']]", (OK, [[0, 1, 0], ["cat", "dog"]])),
    "labels-huge-class-id": ("tiny-huge", {"e.txt": b"0 1\n1 2\n", "l.txt": b"0 1\n1 1000000000\n"},
                             "read_graph(D / 'e.txt', D / 'l.txt')", ("error", "l.txt", "line 2", "classes")),
    "npz-y-huge-class-id": ("tiny-huge", {"g.npz": _savez(edge_index=np.array([[0], [1]]),
                                                          y=np.array([0, 10**12]))},
                            "read_graph(D / 'g.npz')", ("error", "g.npz", "classes")),
    "graphml-label-huge-class-id": ("tiny-huge", {"g.graphml": _graphml('<node id="a"><data key="l">1e12</data></node>'
                                                                          '<node id="b"><data key="l">1</data></node>',
                                                                          '<edge source="a" target="b"/>',
                                                                          _KEY_LABEL)},
                                    "read_graph(D / 'g.graphml')", ("error", "label", "classes")),
    "labels-one-column": ("graph-files", {"e.txt": b"0 1\n", "l.txt": b"0\n1\n"},
                          "read_graph(D / 'e.txt', D / 'l.txt')", ("error", "l.txt")),
    "labels-empty": ("graph-files", {"e.txt": b"0 1\n", "l.txt": b""}, "read_graph(D / 'e.txt', D / 'l.txt')",
                     ("error", "l.txt", "no data")),
    "labels-missing-file": ("graph-files", {"e.txt": b"0 1\n"}, "read_graph(D / 'e.txt', D / 'nope.txt')",
                            ("error", "nope.txt")),
    "labels-array-wrong-length": ("arguments", {"e.txt": b"0 1\n1 2\n"}, "read_graph(D / 'e.txt', [0, 1])",
                                  ("error", "labels")),
    "labels-file-with-npz": ("arguments", {"g.npz": _savez(edge_index=np.array([[0], [1]])), "l.txt": b"0 1\n"},
                             "read_graph(D / 'g.npz', D / 'l.txt')", ("error", "labels")),
    # ---- .npz graphs
    "npz-junk": ("graph-files", {"g.npz": b"PK\x03\x04 this is not a zip"}, "read_graph(D / 'g.npz')",
                 ("error", "g.npz")),
    "npz-text": ("graph-files", {"g.npz": b"0 1\n"}, "read_graph(D / 'g.npz')", ("error", "g.npz")),
    "npz-pickled-y": ("graph-files", {"g.npz": _savez(edge_index=np.array([[0], [1]]),
                                                        y=np.array([0, "a"], dtype=object))},
                      "read_graph(D / 'g.npz')", ("error", "g.npz", "pickle")),
    "npz-float-edge-index": ("graph-files", {"g.npz": _savez(edge_index=np.array([[0.5], [1.0]]))},
                             "read_graph(D / 'g.npz')", ("error", "g.npz", "edge_index")),
    "npz-negative-id": ("graph-files", {"g.npz": _savez(edge_index=np.array([[0], [-3]]))},
                        "read_graph(D / 'g.npz')", ("error", "g.npz", "negative")),
    "npz-num-nodes-too-small": ("graph-files", {"g.npz": _savez(edge_index=np.array([[0], [5]]), num_nodes=2)},
                                "read_graph(D / 'g.npz')", ("error", "g.npz", "num_nodes")),
    "npz-num-nodes-not-scalar": ("graph-files", {"g.npz": _savez(edge_index=np.array([[0], [1]]),
                                                                   num_nodes=np.array([2, 3]))},
                                 "read_graph(D / 'g.npz')", ("error", "g.npz", "num_nodes")),
    "npz-y-nan": ("graph-files", {"g.npz": _savez(edge_index=np.array([[0], [1]]), y=np.array([0.0, np.nan]))},
                  "read_graph(D / 'g.npz')", ("error", "g.npz", "finite")),
    "npz-y-wrong-length": ("graph-files", {"g.npz": _savez(edge_index=np.array([[0], [1]]), num_nodes=2,
                                                             y=np.array([0, 1, 1]))},
                           "read_graph(D / 'g.npz')", ("error", "g.npz", "labels")),
    "npz-x-nan": ("graph-files", {"g.npz": _savez(edge_index=np.array([[0], [1]]), x=np.array([[1.0], [np.nan]]))},
                  "read_graph(D / 'g.npz')", ("error", "g.npz", "finite")),
    "npz-edge-weight-length": ("graph-files", {"g.npz": _savez(edge_index=np.array([[0], [1]]),
                                                                 edge_weight=np.ones(3))},
                               "read_graph(D / 'g.npz')", ("error", "g.npz", "edge_weight")),
    "npz-edge-weight-negative": ("graph-files", {"g.npz": _savez(edge_index=np.array([[0], [1]]),
                                                                   edge_weight=np.array([-1.0]))},
                                 "read_graph(D / 'g.npz')", ("error", "g.npz", ">= 0")),
    "npz-rows-cols-mismatch": ("graph-files", {"g.npz": _savez(rows=np.array([0, 1]), cols=np.array([1]))},
                               "read_graph(D / 'g.npz')", ("error", "g.npz", "same length")),
    "npz-sparse-not-square": ("graph-files", {"g.npz": _save_sparse(sp.csr_array(np.ones((2, 3))))},
                              "read_graph(D / 'g.npz')", ("error", "g.npz", "square")),
    "npz-sparse-dia": ("graph-files", {"g.npz": _save_sparse(sp.dia_array(np.eye(3)))}, "read_graph(D / 'g.npz')",
                       ("error", "g.npz", "dia")),
    "npz-sparse-bad-indptr": ("graph-files", {"g.npz": _sparse_members("csr", (3, 3), data=np.ones(2),
                                                                         indices=np.array([0, 1]),
                                                                         indptr=np.array([0, 5, 1, 2]))},
                              "read_graph(D / 'g.npz')", ("error", "g.npz")),
    "npz-sparse-shape-1e12": ("tiny-huge", {"g.npz": _sparse_members("coo", (10**12, 10**12), data=np.ones(1),
                                                                       row=np.array([0]), col=np.array([1]))},
                              "read_graph(D / 'g.npz')", ("error", "g.npz", "nodes")),
    "npz-edge-index-id-1e15": ("tiny-huge", {"g.npz": _savez(edge_index=np.array([[0], [10**15]]))},
                               "read_graph(D / 'g.npz')", ("error", "g.npz", "nodes")),
    "npz-num-nodes-1e15": ("tiny-huge", {"g.npz": _savez(edge_index=np.array([[0], [1]]), num_nodes=10**15)},
                           "read_graph(D / 'g.npz')", ("error", "g.npz", "nodes")),
    "npz-forged-member-shape": ("tiny-huge", {"g.npz": _npz({"edge_index": _forged_npy((2, 10**12), "<i8")})},
                                "read_graph(D / 'g.npz')", ("error", "g.npz", "edge_index", "declares")),
    "npz-forged-member-small": ("tiny-huge", {"g.npz": _npz({"edge_index": _forged_npy((2, 1000), "<i8",
                                                                                        b"\0" * 64)})},
                                "read_graph(D / 'g.npz')", ("error", "g.npz", "declares")),
    # ---- feature files
    "features-npy-declares-8tb": ("tiny-huge", {"f.npy": _forged_npy((10**6, 10**6))}, "read_features(D / 'f.npy')",
                                  ("error", "f.npy", "declares")),
    "features-npy-truncated": ("graph-files", {"f.npy": _npy_bytes(np.ones((100, 4)))[:-100]},
                               "read_features(D / 'f.npy')", ("error", "f.npy", "declares")),
    "features-npy-nan": ("graph-files", {"f.npy": _npy_bytes(np.array([[1.0], [np.nan]]))},
                         "read_features(D / 'f.npy')", ("error", "f.npy", "finite", "row 1")),
    "features-npy-inf": ("graph-files", {"f.npy": _npy_bytes(np.array([[1.0], [np.inf]]))},
                         "read_features(D / 'f.npy')", ("error", "f.npy", "finite")),
    "features-npy-3d": ("graph-files", {"f.npy": _npy_bytes(np.ones((2, 2, 2)))}, "read_features(D / 'f.npy')",
                        ("error", "f.npy", "2-D")),
    "features-npy-wrong-rows": ("graph-files", {"f.npy": _npy_bytes(np.ones((3, 2)))},
                                "read_features(D / 'f.npy', n_nodes=4)", ("error", "f.npy", "3 rows")),
    "features-npy-object": ("graph-files", {"f.npy": b"\x93NUMPY\x01\x00v\x00" + b"{'descr': '|O', 'fortran_order': "
                                            b"False, 'shape': (2,), }" + b" " * 61 + b"\n" + b"\x80\x02]q\x00."},
                            "read_features(D / 'f.npy')", ("error", "f.npy", "pickle")),
    "features-npy-is-a-pickle": ("graph-files", {"f.npy": b"\x80\x02]q\x00."}, "read_features(D / 'f.npy')",
                                 ("error", "f.npy", "pickle")),
    "features-npy-strings": ("graph-files", {"f.npy": _npy_bytes(np.array(["a", "b"]))}, "read_features(D / 'f.npy')",
                             ("error", "f.npy", "numbers")),
    "features-npy-complex": ("graph-files", {"f.npy": _npy_bytes(np.array([1j, 2]))}, "read_features(D / 'f.npy')",
                             ("error", "f.npy", "numbers")),
    "features-npy-bad-version": ("graph-files", {"f.npy": b"\x93NUMPY\x09\x00" + b"\0" * 20},
                                 "read_features(D / 'f.npy')", ("error", "f.npy")),
    "features-npz-no-key": ("graph-files", {"f.npz": _savez(z=np.ones(3))}, "read_features(D / 'f.npz')",
                            ("error", "f.npz", "'x'")),
    "features-npz-both-keys": ("graph-files", {"f.npz": _savez(x=np.ones(3), features=np.ones(3))},
                               "read_features(D / 'f.npz')", ("error", "f.npz", "both")),
    "features-zero-columns": ("graph-files", {"f.npy": _npy_bytes(np.ones((3, 0)))}, "read_features(D / 'f.npy')",
                              ("error", "f.npy", "0 columns")),
    "features-csv": ("graph-files", {"f.csv": b"1,2\n"}, "read_features(D / 'f.csv')", ("error", "f.csv", ".npy")),
    "features-sparse-dense-1e12": ("tiny-huge", {"f.npz": _sparse_members("coo", (10**6, 10**6), data=np.ones(1),
                                                                           row=np.array([0]), col=np.array([0]))},
                                   "read_features(D / 'f.npz')", ("error", "f.npz", "dense")),
    "features-array-nan": ("graph-files", {"e.txt": b"0 1\n"},
                           "read_graph(D / 'e.txt', features=np.array([[1.0], [np.nan]]))",
                           ("error", "features", "finite")),
    "features-file-wrong-rows": ("graph-files", {"e.txt": b"0 1\n1 2\n", "f.npy": _npy_bytes(np.ones((2, 3)))},
                                 "read_graph(D / 'e.txt', features=D / 'f.npy')", ("error", "f.npy", "2 rows")),
    # ---- GraphML / GML
    "graphml-billion-laughs": ("tiny-huge", {"g.graphml": _BILLION_LAUGHS}, "read_graph(D / 'g.graphml')",
                               ("error", "g.graphml")),
    "graphml-external-entity": ("graph-files", {"g.graphml": _XXE}, "g = read_graph(D / 'g.graphml'); "
                                "result = 'root:' in str(g.metadata)", ("okerror", False, "g.graphml")),
    "graphml-malformed": ("graph-files", {"g.graphml": b"<graphml><graph><node id='a'></graph>"},
                          "read_graph(D / 'g.graphml')", ("error", "g.graphml")),
    "graphml-directed": ("graph-files", {"g.graphml": _graphml('<node id="a"/><node id="b"/>',
                                                                 '<edge source="a" target="b"/>', directed=True)},
                         "read_graph(D / 'g.graphml')", ("error", "directed", "symmetrize")),
    "graphml-label-nan": ("misread", {"g.graphml": _graphml('<node id="a"><data key="l">NaN</data></node>'
                                                              '<node id="b"><data key="l">1</data></node>',
                                                              '<edge source="a" target="b"/>', _KEY_LABEL)},
                          "read_graph(D / 'g.graphml')", ("error", "label", "finite")),
    "graphml-feature-nan": ("graph-files", {"g.graphml": _graphml('<node id="a"><data key="x">NaN</data></node>'
                                                                    '<node id="b"><data key="x">1</data></node>',
                                                                    '<edge source="a" target="b"/>', _KEY_X)},
                            "read_graph(D / 'g.graphml', feature_attr='x')", ("error", "feature_attr", "finite")),
    "graphml-missing-label-attr": ("graph-files", {"g.graphml": _graphml('<node id="a"/><node id="b"/>',
                                                                           '<edge source="a" target="b"/>')},
                                   "read_graph(D / 'g.graphml', label_attr='club')", ("error", "club")),
    "gml-duplicate-ids": ("graph-files", {"g.gml": b"graph [ node [ id 0 ] node [ id 0 ] ]"},
                          "read_graph(D / 'g.gml')", ("error", "g.gml")),
    "gml-deep-nesting": ("tiny-huge", {"g.gml": b"graph [ " + b"a [ " * 50000 + b"]" * 50000 + b" ]"},
                         "read_graph(D / 'g.gml')", ("okerror", None, "g.gml")),
    "gml-garbage": ("graph-files", {"g.gml": b"\xff\xfe garbage"}, "read_graph(D / 'g.gml')", ("error", "g.gml")),
    # ---- split files
    "split-out-of-range": ("graph-files", {"s.npz": _savez(train=[0, 9], val=[1], test=[2])},
                           "load_split(D / 's.npz', 5)", ("error", "s.npz", "'train'", "node id 9")),
    "split-duplicates": ("graph-files", {"s.npz": _savez(train=[0, 0], val=[1], test=[2])},
                         "load_split(D / 's.npz', 5)", ("error", "s.npz", "more than once")),
    "split-int-mask": ("misread", {"s.npz": _savez(train=np.array([1, 1, 0, 0, 0]), val=np.array([], int),
                                                   test=[3])},
                       "load_split(D / 's.npz', 5)", ("error", "s.npz", "dtype bool")),
    "split-overlap": ("graph-files", {"s.npz": _savez(train=[0, 1], val=[1], test=[2])},
                      "load_split(D / 's.npz', 5)", ("error", "s.npz", "overlap")),
    "split-mask-length": ("graph-files", {"s.npz": _savez(train=np.ones(4, bool), val=np.zeros(5, bool),
                                                          test=np.zeros(5, bool))},
                          "load_split(D / 's.npz', 5)", ("error", "s.npz", "boolean mask")),
    "split-float": ("graph-files", {"s.npz": _savez(train=[0.0, 1.0], val=[2], test=[3])},
                    "load_split(D / 's.npz', 5)", ("error", "s.npz", "dtype float64")),
    "split-missing-key": ("graph-files", {"s.npz": _savez(train=[0], val=[1])}, "load_split(D / 's.npz', 5)",
                          ("error", "s.npz", "'test'")),
    "split-empty-train": ("graph-files", {"s.npz": _savez(train=np.array([], int), val=[1], test=[2])},
                          "load_split(D / 's.npz', 5)", ("error", "s.npz", "empty")),
    "split-pickled": ("graph-files", {"s.npz": _savez(train=np.array([[0], "x"], dtype=object), val=[1], test=[2])},
                      "load_split(D / 's.npz', 5)", ("error", "s.npz", "pickle")),
    "split-forged-huge": ("tiny-huge", {"s.npz": _npz({"train": _forged_npy((10**12,), "<i8"),
                                                       "val": _npy_bytes(np.array([1])),
                                                       "test": _npy_bytes(np.array([2]))})},
                          "load_split(D / 's.npz', 5)", ("error", "s.npz", "declares")),
    "split-valid": ("graph-files", {"s.npz": _savez(train=[2, 0], val=np.array([], int), test=[4])},
                    "result = [s.tolist() for s in load_split(D / 's.npz', 5)]", (OK, [[0, 2], [], [4]])),
    "split-n-nodes-negative": ("arguments", {"s.npz": _savez(train=[0], val=[1], test=[2])},
                               "load_split(D / 's.npz', -1)", ("error", "n_nodes")),
    # ---- CSBM sizes estimated before allocating
    "csbm-n-1e8-p-0.1": ("allocation", {}, "sample_csbm(10**8, p=0.1, q=0.01, seed=0)",
                         ("error", "n=100000000", "p=0.1", "expected edges")),
    "csbm-n-1e12": ("allocation", {}, "sample_csbm(10**12, p=0.0, q=0.0, seed=0)", ("error", "n=1000000000000")),
    "csbm-n-float-1e12": ("allocation", {}, "sample_csbm(1e12, p=1e-9, q=1e-9, seed=0)",
                          ("error", "n=1000000000000")),
    "csbm-probs-dense-1e6": ("allocation", {}, "sample_csbm(sizes=[500000, 500000], probs=[[0.5, 0.1], [0.1, 0.5]], "
                                               "seed=0)", ("error", "n=1000000", "probs")),
    "from-edges-id-1e15": ("allocation", {}, "Graph.from_edges([0], [10**15])", ("error", "from_edges", "nodes")),
    "pyg-edge-index-id-1e15": ("allocation", {}, "read_graph(Data(edge_index=np.array([[0], [10**15]])))",
                               ("error", "edge_index", "nodes")),
    "pyg-num-nodes-1e14": ("allocation", {}, "read_graph(Data(edge_index=np.array([[0], [1]]), num_nodes=10**14))",
                           ("error", "num_nodes")),
    "csbm-n-not-integer": ("arguments", {}, "sample_csbm(10.5, p=0.1, q=0.1, seed=0)", ("error", "n")),
}

_SETUP = """
import numpy as np
from pathlib import Path
from oversmooth.graphs import Graph, read_graph, read_features, load_split, sample_csbm
from types import SimpleNamespace as Data  # read_graph takes any object with edge_index as a PyG Data
"""


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    root = tmp_path_factory.mktemp("graph_files")
    snippets = {}
    for cid, (_cls, files, code, _exp) in CASES.items():
        d = root / cid
        d.mkdir()
        for name, data in files.items():
            (d / name).write_bytes(data)
        snippets[cid] = f"D = Path({str(d)!r})\n{code}\n"
    return run_batch(snippets, setup=_SETUP, case_timeout=20, timeout=240, mem_mb=2500)


@pytest.mark.parametrize("cid", [pytest.param(c, marks=pytest.mark.hostile(v[0]), id=c) for c, v in CASES.items()])
def test_graph_file(outcomes, cid):
    expect = CASES[cid][3]
    res = outcomes[cid]
    kind = expect[0]
    if kind == "error":
        assert_py_error(res, *expect[1:])
    elif kind == "type":
        assert_py_error(res, *expect[1:], kinds=("TypeError",))
    elif kind == "okerror":  # either a correct run with this result, or an error naming the file
        if res.exc_type is None:
            assert_py_ok(res)
            if expect[1] is not None:
                assert result_of(res) == expect[1]
        else:
            assert_py_error(res, *expect[2:])
    elif kind == "warn":
        assert_py_ok(res)
        assert any(expect[1] in w for w in warnings_of(res)), warnings_of(res)
        assert result_of(res) == expect[2]
    else:
        assert_py_ok(res)
        assert result_of(res) == expect[1]
    assert res.outcome.seconds < 10, f"took {res.outcome.seconds:.1f} s"
