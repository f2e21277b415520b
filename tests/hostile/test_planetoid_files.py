"""Hostile Planetoid files: crafted pickles for the restricted unpickler, damaged raw files for load_planetoid.

The pickles are tiny and declare huge work (shared sub-lists, ``numpy.ndarray((60000,
100000))``, a 1 TB length prefix), smuggle globals, loop, or are truncated; the raw-file
cases put damaged copies of the real files in ``root`` or the cache (PubMed's ``allx``,
which has no shipped hash, through ``allow_unverified=True``). All run in one subprocess
under the harness's memory limit, each with its own time limit.
"""

from __future__ import annotations

import os
import pickle
import shutil
import struct
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from _graphbatch import result_of, run_batch
from _harness import assert_py_error, assert_py_ok

from _helpers import planetoid_raw_dir

RAW = planetoid_raw_dir()
FILES = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


def _shared_sublists(depth: int = 40) -> bytes:
    x: list = [0]
    for _ in range(depth):
        x = [x, x]
    return pickle.dumps(x, protocol=2)


def _cycle() -> bytes:
    x: list = []
    x.append(x)
    return pickle.dumps(x, protocol=2)


def _graph_bomb() -> bytes:
    big = list(range(2000))
    d = defaultdict(list)
    for i in range(2000):
        d[i] = big
    return pickle.dumps(d, protocol=2)


def _shared_array() -> bytes:
    a = np.zeros(10000)
    return pickle.dumps([a] * 20000, protocol=2)


def _csr(rows: int, cols: int, *, shape=None, nan: bool = False, indptr=None) -> bytes:
    m = sp.csr_matrix(sp.random(rows, cols, density=0.01, format="csr", random_state=1, dtype=np.float32))
    if nan:
        m.data[0] = np.nan
    if shape is not None:
        m._shape = shape
    if indptr is not None:
        m.indptr = np.asarray(indptr, dtype=m.indptr.dtype)
    return pickle.dumps(m, protocol=2)


_EVIL_SYSTEM = b"cos\nsystem\n(S'touch /tmp/oversmooth_pwned_pickle'\ntR."
_NDARRAY_DIRECT = b"\x80\x02cnumpy\nndarray\nJ`\xea\x00\x00J\xa0\x86\x01\x00\x86\x85R."  # ndarray((60000, 100000))
_BINBYTES8_1TB = b"\x80\x04\x8e" + (10**12).to_bytes(8, "little") + b"abc"
_LONG4_HUGE = b"\x80\x02\x8b" + struct.pack("<i", 2**31 - 1) + b"\x00"
_DEEP = b"\x80\x02" + b"]" * 100000 + b"a" * 99999 + b"."
_OBJECT_DTYPE = pickle.dumps(np.array([1, "a"], dtype=object), protocol=2)
_V0_DTYPE = (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R"
             b"(K\x01\x8a\x05\x00\x10\xa5\xd4\xe8\x85cnumpy\ndtype\nX\x02\x00\x00\x00V0\x89\x88\x87R"
             b"(K\x03X\x01\x00\x00\x00|NNNK\x00K\x01K\x00tb\x89C\x00tb.")
_RECONSTRUCT_LIST = b"\x80\x02cnumpy.core.multiarray\n_reconstruct\nc__builtin__\nlist\nK\x00\x85C\x01b\x87R."

# id -> (class, {file: bytes} for a restricted_load case, or None; code; expectation)
PICKLES: dict[str, tuple[str, bytes, tuple]] = {
    "pickle-shared-sublists-2^40": ("tiny-huge", _shared_sublists(), ("error", "p.pkl", "expands")),
    "pickle-ndarray-60000x100000": ("tiny-huge", _NDARRAY_DIRECT, ("error", "p.pkl", "numpy.ndarray")),
    "pickle-binbytes8-1tb": ("tiny-huge", _BINBYTES8_1TB, ("error", "p.pkl")),
    "pickle-long4-2gb": ("tiny-huge", _LONG4_HUGE, ("error", "p.pkl")),
    "pickle-graph-dict-shared-lists": ("tiny-huge", _graph_bomb(), ("error", "p.pkl", "expands")),
    "pickle-shared-array": ("tiny-huge", _shared_array(), ("error", "p.pkl", "expands")),
    "pickle-cycle": ("planetoid-files", _cycle(), ("error", "p.pkl", "cycle")),
    "pickle-deep-nesting": ("planetoid-files", _DEEP, ("okerror", "p.pkl")),
    "pickle-os-system": ("planetoid-files", _EVIL_SYSTEM, ("error", "p.pkl", "os.system")),
    "pickle-builtins-eval": ("planetoid-files", b"c__builtin__\neval\n(S'1+1'\ntR.", ("error", "p.pkl", "eval")),
    "pickle-numpy-load": ("planetoid-files", b"cnumpy\nload\n(S'/etc/passwd'\ntR.", ("error", "p.pkl", "numpy.load")),
    "pickle-object-dtype": ("planetoid-files", _OBJECT_DTYPE, ("error", "p.pkl", "object")),
    "pickle-void-dtype-1e12": ("tiny-huge", _V0_DTYPE, ("error", "p.pkl", "dtype")),
    "pickle-reconstruct-list": ("planetoid-files", _RECONSTRUCT_LIST, ("error", "p.pkl")),
    "pickle-big-endian-ok": ("planetoid-files", pickle.dumps(np.arange(4, dtype=">f8"), protocol=2),
                             ("ok", [0.0, 1.0, 2.0, 3.0])),
    "pickle-truncated": ("planetoid-files", pickle.dumps(np.arange(100), protocol=2)[:60], ("error", "p.pkl")),
    "pickle-empty": ("planetoid-files", b"", ("error", "p.pkl")),
    "pickle-random-bytes": ("planetoid-files", bytes(np.random.default_rng(0).integers(0, 256, 2048, dtype=np.uint8)),
                            ("error", "p.pkl")),
    "pickle-out-of-band-buffer": ("planetoid-files", b"\x80\x05\x97.", ("error", "p.pkl")),
    "pickle-csr-forged-indptr": ("planetoid-files", _csr(5, 5, indptr=[0, 9, 1, 2, 3, 4]), ("csr", "p.pkl", "CSR")),
    "pickle-bytes-1e12": ("tiny-huge", b"\x80\x02c__builtin__\nbytes\n\x8a\x05\x00\x10\xa5\xd4\xe8\x85R.",
                          ("error", "p.pkl", "bytes")),
    "pickle-empty-bytes-ok": ("planetoid-files", pickle.dumps(np.zeros(0), protocol=2), ("ok", [])),
}

_PICKLE_CODE = """
obj = restricted_load(open(D / 'p.pkl', 'rb'), str(D / 'p.pkl'))
if {csr}:
    checked_csr(obj, str(D / 'p.pkl'))
result = obj.tolist() if hasattr(obj, 'tolist') else None
"""

# load_planetoid on damaged raw files: id -> (class, dataset, {file suffix: transform}, keywords, expectation)
LOADS: dict[str, tuple[str, str, dict, dict, tuple]] = {
    "root-cora-bitflip": ("planetoid-files", "cora", {"ty": "bitflip"}, {}, ("error", "ind.cora.ty", "SHA-256")),
    "root-cora-truncated": ("planetoid-files", "cora", {"graph": "truncate"}, {},
                            ("error", "ind.cora.graph", "bytes, expected")),
    "root-cora-extra-byte": ("planetoid-files", "cora", {"ally": "append"}, {}, ("error", "ind.cora.ally", "bytes")),
    "root-cora-empty-file": ("planetoid-files", "cora", {"test.index": "empty"}, {},
                             ("error", "ind.cora.test.index")),
    "root-cora-file-is-dir": ("planetoid-files", "cora", {"y": "dir"}, {"download": False},
                              ("error", "ind.cora.y", "download=False")),
    "root-cora-stale-part-removed": ("downloads", "cora", {"@part": "stale"}, {"features": False},
                                     ("ok_noparts", 2708)),
    "root-pubmed-allx-unverified": ("planetoid-files", "pubmed", {"allx": "good"}, {},
                                    ("error", "ind.pubmed.allx", "allow_unverified")),
    "root-pubmed-allx-good": ("planetoid-files", "pubmed", {"allx": "good"}, {"allow_unverified": True},
                              ("ok", 19717)),
    "root-pubmed-allx-shared-bomb": ("tiny-huge", "pubmed", {"allx": "bomb"}, {"allow_unverified": True},
                                     ("error", "ind.pubmed.allx", "expands")),
    "root-pubmed-allx-ndarray-call": ("tiny-huge", "pubmed", {"allx": "ndarray"}, {"allow_unverified": True},
                                      ("error", "ind.pubmed.allx", "numpy.ndarray")),
    "root-pubmed-allx-wrong-dim": ("planetoid-files", "pubmed", {"allx": "wrongdim"}, {"allow_unverified": True},
                                   ("error", "ind.pubmed.allx", "500")),
    "root-pubmed-allx-huge-cols": ("tiny-huge", "pubmed", {"allx": "hugecols"}, {"allow_unverified": True},
                                   ("error", "ind.pubmed.allx", "1000000000000 feature columns")),
    "root-pubmed-allx-nan": ("misread", "pubmed", {"allx": "nan"}, {"allow_unverified": True},
                             ("error", "ind.pubmed.allx", "finite")),
    "root-pubmed-allx-a-list": ("planetoid-files", "pubmed", {"allx": "list"}, {"allow_unverified": True},
                                ("error", "ind.pubmed.allx", "CSR")),
    "root-pubmed-allx-truncated": ("planetoid-files", "pubmed", {"allx": "truncated"}, {"allow_unverified": True},
                                   ("error", "ind.pubmed.allx", "features=False")),
    "cache-pubmed-allx-truncated": ("planetoid-files", "pubmed", {"allx": "truncated@cache"},
                                    {"allow_unverified": True}, ("error", "planetoid/ind.pubmed.allx", "delete")),
    "root-pubmed-allx-evil": ("planetoid-files", "pubmed", {"allx": "evil"}, {"allow_unverified": True},
                              ("error", "ind.pubmed.allx", "refusing")),
    "name-unknown": ("arguments", "arxiv", {}, {"download": False}, ("error", "name")),
    "nothing-and-no-download": ("planetoid-files", "cora", {"@empty": "root"}, {"download": False},
                                ("error", "ind.cora", "download=False")),
}


def _allx(kind: str) -> bytes:
    return {
        "good": lambda: _csr(18717, 500),
        "bomb": _shared_sublists,
        "ndarray": lambda: _NDARRAY_DIRECT,
        "wrongdim": lambda: _csr(18717, 400),
        "hugecols": lambda: _csr(18717, 500, shape=(18717, 10**12)),
        "nan": lambda: _csr(18717, 500, nan=True),
        "list": lambda: pickle.dumps([[0, 1]] * 10, protocol=2),
        "truncated": lambda: _csr(18717, 500)[:4000],
        "evil": lambda: _EVIL_SYSTEM,
    }[kind]()


def _prepare(d: Path, name: str, changes: dict) -> tuple[Path, Path]:
    root, cache = d / "root", d / "cache"
    root.mkdir(parents=True)
    (cache / "planetoid").mkdir(parents=True)
    if changes.get("@empty") or name not in ("cora", "citeseer", "pubmed"):
        return root, cache
    for f in FILES:
        src = RAW / f"ind.{name}.{f}"
        if src.is_file():
            shutil.copy(src, root)
    for suffix, how in changes.items():
        if suffix == "@part":
            (cache / "planetoid" / ".ind.cora.graph.999999999.dead.part").write_bytes(b"half a file")
            continue
        p = root / f"ind.{name}.{suffix}"
        if how == "bitflip":
            b = bytearray(p.read_bytes())
            b[len(b) // 2] ^= 1
            p.write_bytes(bytes(b))
        elif how == "truncate":
            p.write_bytes(p.read_bytes()[:-100])
        elif how == "append":
            p.write_bytes(p.read_bytes() + b"\0")
        elif how == "empty":
            p.write_bytes(b"")
        elif how == "dir":
            p.unlink()
            p.mkdir()
        elif how.endswith("@cache"):
            (cache / "planetoid" / p.name).write_bytes(_allx(how.split("@")[0]))
        else:
            p.write_bytes(_allx(how))
    return root, cache


_LOAD_CODE = """
g = load_planetoid({name!r}, root=root, data_dir=cache, progress=False, url='http://127.0.0.1:9/none', timeout=5, **{kw!r})
result = [g.n_nodes, sorted(p.name for p in (cache / 'planetoid').glob('.*.part'))]
"""

_SETUP = """
from pathlib import Path
from oversmooth.graphs import load_planetoid, restricted_load
from oversmooth.graphs._pickle import checked_csr
"""


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    base = tmp_path_factory.mktemp("planetoid_files")
    snippets = {}
    for cid, (_cls, data, exp) in PICKLES.items():
        d = base / cid
        d.mkdir()
        (d / "p.pkl").write_bytes(data)
        snippets[cid] = f"D = Path({str(d)!r})\n" + _PICKLE_CODE.format(csr=exp[0] == "csr")
    if (RAW / "ind.cora.graph").is_file():
        for cid, (_cls, name, changes, kw, _exp) in LOADS.items():
            root, cache = _prepare(base / cid, name, changes)
            cache_part = "cache / 'planetoid'"
            root_dir = "None" if changes.get("@empty") else repr(str(root))
            snippets[cid] = (f"root = {root_dir}\ncache = Path({str(cache)!r})\n"
                             + _LOAD_CODE.format(name=name, kw=kw).replace("(cache / 'planetoid')", f"({cache_part})"))
    return run_batch(snippets, setup=_SETUP, case_timeout=30, timeout=300, mem_mb=2500)


def _judge(res, exp) -> None:
    kind = exp[0]
    if kind in ("error", "csr"):
        assert_py_error(res, *exp[1:])
    elif kind == "okerror":
        if res.exc_type is not None:
            assert_py_error(res, *exp[1:])
        else:
            assert_py_ok(res)
    elif kind == "ok":
        assert_py_ok(res)
        got = result_of(res)
        assert (got[0] if isinstance(got, list) and len(got) == 2 and isinstance(got[1], list) else got) == exp[1]
    elif kind == "ok_noparts":
        assert_py_ok(res)
        assert result_of(res) == [exp[1], []], result_of(res)
    assert res.outcome.seconds < 20, f"took {res.outcome.seconds:.1f} s"
    assert not Path("/tmp/oversmooth_pwned_pickle").exists()


@pytest.mark.parametrize("cid", [pytest.param(c, marks=pytest.mark.hostile(v[0]), id=c) for c, v in PICKLES.items()])
def test_crafted_pickle(outcomes, cid):
    _judge(outcomes[cid], PICKLES[cid][2])


@pytest.mark.skipif(not (RAW / "ind.cora.graph").is_file(), reason=f"raw Planetoid files not in {RAW}")
@pytest.mark.parametrize("cid", [pytest.param(c, marks=pytest.mark.hostile(v[0]), id=c) for c, v in LOADS.items()])
def test_damaged_raw_files(outcomes, cid):
    _judge(outcomes[cid], LOADS[cid][4])


def test_no_code_ran():
    assert not os.path.exists("/tmp/oversmooth_pwned_pickle")
