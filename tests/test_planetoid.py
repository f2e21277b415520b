"""Planetoid loading: counts, PyG semantics, shipped arrays, verified download, restricted unpickler.

The raw files come from ``$OVERSMOOTH_PLANETOID_RAW`` (default ``../shared/data/planetoid/`` beside
the repository; PubMed there has no ``ind.pubmed.allx``), through ``_helpers.planetoid_raw_dir``;
tests that need them skip cleanly when the folder is absent. The
download path is exercised for real against a loopback HTTP server in a thread.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import pickle
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from oversmooth.graphs import (
    PLANETOID_NAMES,
    Graph,
    IntegrityError,
    UnsafePickleError,
    UnverifiedFileError,
    data_home,
    load_planetoid,
    planetoid_structure,
    restricted_load,
)
from oversmooth.graphs._planetoid import PLANETOID_COUNTS, PLANETOID_FILES, PLANETOID_SHA256

from _helpers import needs_planetoid_raw, planetoid_raw_dir

RAW = planetoid_raw_dir()
needs_raw = needs_planetoid_raw


def _edge_set(g: Graph) -> set[tuple[int, int]]:
    up = sp.triu(g.adjacency, k=1).tocoo()
    return set(zip(up.row.tolist(), up.col.tolist()))


# --------------------------------------------------------------------------- from root
@needs_raw
@pytest.mark.parametrize("name", PLANETOID_NAMES)
def test_counts_from_root(name, tmp_path):
    n, e, k, d = PLANETOID_COUNTS[name]
    g = load_planetoid(name, root=RAW, features=name != "pubmed", download=False, data_dir=tmp_path)
    assert (g.n_nodes, g.n_edges, g.n_classes) == (n, e, k)
    assert not g.has_self_loops
    a = g.adjacency
    assert (abs(a - a.T)).nnz == 0 and set(np.unique(a.data)) == {1.0}
    if name != "pubmed":
        assert g.features.shape == (n, d) and "allx" in g.metadata["features_source"]
    else:
        assert g.features is None and g.metadata["features_source"] is None
    split = g.metadata["public_split"]
    assert split["train"].tolist() == list(range({"cora": 140, "citeseer": 120, "pubmed": 60}[name]))
    assert split["test"].size == 1000 and np.all(g.labels[split["test"]] >= 0)
    assert not any(tmp_path.iterdir())  # nothing downloaded or cached: everything came from root


@needs_raw
def test_citeseer_missing_test_nodes_are_unlabelled_with_zero_features(tmp_path):
    g = load_planetoid("citeseer", root=RAW, download=False, data_dir=tmp_path)
    missing = np.flatnonzero(g.labels < 0)
    assert missing.size == 15 == g.metadata["n_missing_test"]
    assert np.all(g.features[missing] == 0)
    assert np.all(g.degrees[missing] >= 1)  # their edges from ind.citeseer.graph are kept (as PyG)


@needs_raw
def test_pubmed_without_allx_needs_features_false(tmp_path):
    with pytest.raises(FileNotFoundError, match="ind.pubmed.allx"):
        load_planetoid("pubmed", root=RAW, download=False, data_dir=tmp_path)


@needs_raw
@pytest.mark.parametrize("name", ["cora", "citeseer"])
def test_same_graph_labels_features_as_pyg(name, tmp_path):
    pytest.importorskip("torch_geometric")
    from torch_geometric.io.planetoid import read_planetoid_data

    for f in PLANETOID_FILES:
        shutil.copy(RAW / f"ind.{name}.{f}", tmp_path / f"ind.{name}.{f}")
    data = read_planetoid_data(str(tmp_path), name)
    g = load_planetoid(name, root=tmp_path, download=False, data_dir=tmp_path / "cache")
    ei = data.edge_index.numpy()
    pyg_edges = {(int(min(a, b)), int(max(a, b))) for a, b in ei.T if a != b}
    assert _edge_set(g) == pyg_edges
    y = data.y.numpy()
    lab = g.labels >= 0
    assert np.array_equal(g.labels[lab], y[lab])
    assert np.all(y[~lab] == 0)  # PyG labels CiteSeer's missing nodes 0; we use -1
    np.testing.assert_array_equal(g.features, data.x.numpy())


@needs_raw
@pytest.mark.parametrize("name", PLANETOID_NAMES)
def test_shipped_arrays_equal_the_raw_files(name, tmp_path):
    raw = load_planetoid(name, root=RAW, features=False, download=False, data_dir=tmp_path)
    shipped = planetoid_structure(name)
    assert _edge_set(raw) == _edge_set(shipped)
    np.testing.assert_array_equal(raw.labels, shipped.labels)


def test_shipped_arrays_counts_offline():
    for name in PLANETOID_NAMES:
        g = planetoid_structure(name)
        n, e, k, _ = PLANETOID_COUNTS[name]
        assert (g.n_nodes, g.n_edges, g.n_classes) == (n, e, k)
        assert g.features is None and not g.has_self_loops
    with pytest.raises(ValueError, match="name must be one of"):
        planetoid_structure("reddit")


@needs_raw
def test_shipped_hashes_match_sha256sums_and_pubmed_allx_is_unknown():
    listed = {}
    for line in (RAW / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            h, f = line.split()
            listed[f] = h
    assert PLANETOID_SHA256["ind.pubmed.allx"] is None
    assert {f: h for f, h in PLANETOID_SHA256.items() if h is not None} == listed
    for f, h in listed.items():
        assert hashlib.sha256((RAW / f).read_bytes()).hexdigest() == h


def test_data_home_env(monkeypatch, tmp_path):
    monkeypatch.setenv("OVERSMOOTH_DATA", str(tmp_path / "d"))
    assert data_home() == tmp_path / "d"
    monkeypatch.delenv("OVERSMOOTH_DATA")
    assert data_home() == Path.home() / ".cache" / "oversmooth"


@needs_raw
def test_corrupted_file_in_root_is_named(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    for f in PLANETOID_FILES:
        shutil.copy(RAW / f"ind.cora.{f}", root)
    data = bytearray((root / "ind.cora.ty").read_bytes())
    data[100] ^= 0xFF
    (root / "ind.cora.ty").write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=r"ind\.cora\.ty: SHA-256 mismatch"):
        load_planetoid("cora", root=root, download=False, data_dir=tmp_path / "cache")


def test_bad_name():
    with pytest.raises(ValueError, match="name must be one of"):
        load_planetoid("arxiv", download=False)


# --------------------------------------------------------------------------- download through a loopback server
class _Handler(http.server.SimpleHTTPRequestHandler):
    truncate: set[str] = set()

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):  # noqa: N802
        name = self.path.rsplit("/", 1)[-1]
        if name in self.truncate:  # announce the full length, send half, close
            body = Path(self.translate_path(self.path)).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture
def serve():
    servers = []

    def start(directory: Path, truncate: tuple[str, ...] = ()) -> str:
        handler = type("H", (_Handler,), {"truncate": set(truncate)})

        def factory(*a, **kw):
            return handler(*a, directory=str(directory), **kw)

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), factory)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/data"

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def _site(tmp_path: Path, name: str = "cora") -> Path:
    site = tmp_path / "site" / "data"
    site.mkdir(parents=True)
    for f in PLANETOID_FILES:
        src = RAW / f"ind.{name}.{f}"
        if src.is_file():
            shutil.copy(src, site)
    return site


def _leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.rglob("*") if p.name.startswith(".") or p.suffix == ".part")


@needs_raw
def test_download_verifies_and_caches(tmp_path, serve):
    url = serve(_site(tmp_path).parent) + ""
    cache = tmp_path / "cache"
    g = load_planetoid("cora", url=url, data_dir=cache, progress=False)
    assert (g.n_nodes, g.n_edges, g.n_classes, g.features.shape[1]) == (2708, 5278, 7, 1433)
    files = sorted(p.name for p in (cache / "planetoid").iterdir())
    # x is a subset of allx: never fetched; y (the first rows of ally) gives the public split's training nodes
    assert files == sorted(f"ind.cora.{f}" for f in ("y", "tx", "allx", "ally", "ty", "graph", "test.index"))
    assert _leftovers(cache) == []
    # second time: from the cache, no server needed
    g2 = load_planetoid("cora", url="http://127.0.0.1:9/nowhere", data_dir=cache, progress=False)
    assert _edge_set(g2) == _edge_set(g)


@needs_raw
def test_download_with_progress_bar(tmp_path, serve, capsys):
    url = serve(_site(tmp_path).parent)
    load_planetoid("cora", url=url, data_dir=tmp_path / "cache", features=False, progress=True)
    assert "downloading ind.cora.graph" in capsys.readouterr().err


@needs_raw
def test_download_corrupted_copy_is_refused_and_not_cached(tmp_path, serve):
    site = _site(tmp_path)
    data = bytearray((site / "ind.cora.graph").read_bytes())
    data[len(data) // 2] ^= 0x01
    (site / "ind.cora.graph").write_bytes(bytes(data))
    cache = tmp_path / "cache"
    with pytest.raises(IntegrityError, match=r"ind\.cora\.graph: SHA-256 mismatch"):
        load_planetoid("cora", url=serve(site.parent), data_dir=cache, features=False, progress=False)
    assert not (cache / "planetoid" / "ind.cora.graph").exists()
    assert _leftovers(cache) == []


@needs_raw
def test_download_truncated_file_is_refused_and_not_cached(tmp_path, serve):
    site = _site(tmp_path)
    cache = tmp_path / "cache"
    with pytest.raises(IntegrityError, match=r"ind\.cora\.graph: truncated"):
        load_planetoid("cora", url=serve(site.parent, truncate=("ind.cora.graph",)), data_dir=cache,
                       features=False, progress=False)
    assert not (cache / "planetoid" / "ind.cora.graph").exists()
    assert _leftovers(cache) == []


@needs_raw
def test_download_truncated_copy_served_whole_fails_hash(tmp_path, serve):
    site = _site(tmp_path)
    data = (site / "ind.cora.ally").read_bytes()
    (site / "ind.cora.ally").write_bytes(data[: len(data) // 3])
    with pytest.raises(IntegrityError, match=r"ind\.cora\.ally"):
        load_planetoid("cora", url=serve(site.parent), data_dir=tmp_path / "cache", features=False, progress=False)
    assert _leftovers(tmp_path / "cache") == []


@needs_raw
def test_download_missing_file_is_named(tmp_path, serve):
    site = _site(tmp_path)
    (site / "ind.cora.ty").unlink()
    with pytest.raises(FileNotFoundError, match=r"ind\.cora\.ty: download .* HTTP 404"):
        load_planetoid("cora", url=serve(site.parent), data_dir=tmp_path / "cache", features=False, progress=False)
    assert _leftovers(tmp_path / "cache") == []


@needs_raw
def test_pubmed_allx_without_hash(tmp_path, serve):
    site = _site(tmp_path, "pubmed")  # no allx there, as upstream's hash is unknown to us
    url = serve(site.parent)
    cache = tmp_path / "cache"
    # structure and labels: fine, verified
    g = load_planetoid("pubmed", url=url, data_dir=cache, features=False, progress=False)
    assert (g.n_nodes, g.n_edges, g.n_classes) == (19717, 44324, 3)
    # features: the file cannot be verified -> refused before any download
    with pytest.raises(UnverifiedFileError, match=r"ind\.pubmed\.allx: no SHA-256"):
        load_planetoid("pubmed", url=url, data_dir=cache, progress=False)
    # opting in: then the server's 404 is reported, naming the file
    with pytest.raises(FileNotFoundError, match=r"ind\.pubmed\.allx"):
        load_planetoid("pubmed", url=url, data_dir=cache, allow_unverified=True, progress=False)
    assert _leftovers(cache) == []


# --------------------------------------------------------------------------- restricted unpickler
class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _EvilEval:
    def __reduce__(self):
        return (eval, ("__import__('os').getpid()",))


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_crafted_pickle_is_refused_and_runs_nothing(tmp_path, protocol):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Evil(marker), protocol=protocol)
    # sanity: unrestricted pickle.load would run it (in a subprocess, so the test process stays clean)
    probe = tmp_path / "probe"
    subprocess.run([sys.executable, "-c", "import pickle,sys; pickle.loads(sys.stdin.buffer.read())"],
                   input=pickle.dumps(_Evil(probe), protocol=protocol), check=False)
    assert probe.exists()
    with pytest.raises(UnsafePickleError, match=r"refusing to load global (posix|os|nt)\.system"):
        restricted_load(payload, "ind.cora.graph")
    assert not marker.exists()


def test_crafted_pickle_in_a_file_names_it(tmp_path):
    with pytest.raises(UnsafePickleError, match=r"evil\.pkl: refusing to load global builtins\.eval"):
        restricted_load(pickle.dumps(_EvilEval()), "evil.pkl")
    # a Python-2 style GLOBAL for __builtin__.eval is refused as well
    with pytest.raises(UnsafePickleError, match=r"__builtin__\.eval"):
        restricted_load(b"c__builtin__\neval\n(S'1+1'\ntR.", "py2.pkl")


def test_restricted_unpickler_reads_what_planetoid_needs():
    from collections import defaultdict

    arr = np.arange(6.0).reshape(2, 3)
    csr = sp.csr_matrix(arr)
    dd = defaultdict(list, {0: [1, 2], 1: [0]})
    for proto in (2, 4):
        np.testing.assert_array_equal(restricted_load(pickle.dumps(arr, protocol=proto)), arr)
        np.testing.assert_array_equal(restricted_load(pickle.dumps(csr, protocol=proto)).toarray(), arr)
        assert restricted_load(pickle.dumps(dd, protocol=proto)) == dd
    with pytest.raises(UnsafePickleError, match="object arrays"):
        restricted_load(pickle.dumps(np.array([1, "a"], dtype=object), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="trunc.pkl: cannot be unpickled"):
        restricted_load(pickle.dumps(arr, protocol=2)[:40], "trunc.pkl")


@needs_raw
def test_download_base_url_from_the_environment(tmp_path, serve, monkeypatch):
    monkeypatch.setenv("OVERSMOOTH_PLANETOID_URL", serve(_site(tmp_path).parent))
    g = load_planetoid("cora", data_dir=tmp_path / "cache", features=False, progress=False)
    assert g.n_nodes == 2708 and _leftovers(tmp_path / "cache") == []


def test_stale_part_files_of_dead_processes_are_removed(tmp_path):
    from oversmooth.graphs._download import remove_stale_parts

    folder = tmp_path / "planetoid"
    folder.mkdir()
    dead = folder / ".ind.cora.graph.999999999.ab12.part"  # no such process id
    alive = folder / f".ind.cora.y.{os.getpid()}.cd34.part"  # this process: in use
    other = folder / "ind.cora.y"
    for p in (dead, alive, other):
        p.write_bytes(b"x")
    assert remove_stale_parts(folder) == [dead]
    assert sorted(p.name for p in folder.iterdir()) == sorted([alive.name, other.name])
