"""Build the compact Planetoid arrays shipped in ``src/oversmooth/graphs/data/``.

Reads the raw ``ind.<name>.*`` files (Yang, Cohen, Salakhutdinov, ICML 2016;
github.com/kimiyoung/planetoid, MIT license) through
:func:`oversmooth.graphs.load_planetoid` (restricted unpickler, SHA-256 checked) and
writes ``planetoid_<name>.npz`` with the undirected edges once each (``rows < cols``,
int32), the labels (int8, ``-1`` = unlabelled), ``n_nodes`` and the public split of PyG's
``Planetoid(split="public")`` (``public_train``, ``public_val``, ``public_test``: sorted int32
node indices). No features. The raw files are checked against ``RAW_DIR/SHA256SUMS`` first.

Usage::

    python scripts/build_planetoid_arrays.py [RAW_DIR]   # default /work/shared/data/planetoid
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from oversmooth.graphs import PLANETOID_NAMES, load_planetoid

OUT = Path(__file__).resolve().parents[1] / "src" / "oversmooth" / "graphs" / "data"


def check_sums(raw: Path) -> None:
    """Every file listed in ``raw/SHA256SUMS`` must have that SHA-256 (load_planetoid checks them again)."""
    for line in (raw / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            expected, fname = line.split()
            got = hashlib.sha256((raw / fname).read_bytes()).hexdigest()
            if got != expected:
                raise SystemExit(f"{raw / fname}: SHA-256 {got}, SHA256SUMS says {expected}")


def main(raw: str) -> None:
    check_sums(Path(raw))
    OUT.mkdir(parents=True, exist_ok=True)
    for name in PLANETOID_NAMES:
        g = load_planetoid(name, root=raw, features=False, download=False)
        upper = sp.triu(g.adjacency, k=1).tocoo()
        order = np.lexsort((upper.col, upper.row))
        rows = upper.row[order].astype(np.int32)
        cols = upper.col[order].astype(np.int32)
        path = OUT / f"planetoid_{name}.npz"
        split = {f"public_{k}": np.sort(v).astype(np.int32) for k, v in g.metadata["public_split"].items()}
        np.savez_compressed(path, rows=rows, cols=cols, labels=g.labels.astype(np.int8),
                            n_nodes=np.int64(g.n_nodes), **split)
        print(f"{path.name}: {g.n_nodes} nodes, {rows.size} edges, {g.n_classes} classes, "
              f"public split {[len(v) for v in split.values()]}, {path.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/planetoid")
