"""``oversmooth profile EMBEDDINGS.npz --graph GRAPH --out DIR``: measure saved per-layer embeddings.

The ``.npz`` holds one array per layer, ``layer_0, layer_1, ..., layer_L`` (N x d_l each, saved
from any framework, e.g. ``numpy.savez("emb.npz", **{f"layer_{i}": h.cpu().numpy() ...})``),
and optionally ``labels`` (N,). Writes ``profile.csv``, ``profile.json`` and ``profile.png``.
"""

from __future__ import annotations

import argparse
import json
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


from ._common import atomic_path, atomic_write_text, check_output_dir, cli_error, format_table, integer

__all__ = ["add_parser", "read_embeddings", "PROFILE_METRIC_CHOICES"]

#: ``profile --metrics`` choices (a literal, so that ``--help`` imports nothing heavy; a test checks it
#: equals ``oversmooth.measures.PROFILE_METRICS``).
PROFILE_METRIC_CHOICES = (
    "separation", "within_class_spread", "between_class_spread", "dirichlet_energy",
    "normalized_dirichlet_energy", "rayleigh_quotient", "mad", "mad_gap", "group_distance_ratio",
    "effective_rank", "probe_accuracy",
)

_LAYER_KEY = re.compile(r"^layer_(\d+)$")
_MAX_ABS = 1e100  # as simulate's mu: squares stay finite
_TABLE = (
    ("layer", "layer"), ("dim", "dim"), ("separation", "separation"), ("within_class_spread", "within"),
    ("between_class_spread", "between"), ("rayleigh_quotient", "rayleigh"), ("mad", "MAD"),
    ("mad_gap", "MADGap"), ("effective_rank", "eff rank"), ("probe_accuracy", "probe acc"),
)


def _error(message: str) -> Exception:
    return cli_error("profile", message)


def read_embeddings(path: str | Path) -> tuple[list[np.ndarray], np.ndarray | None]:
    """The ``layer_0 .. layer_L`` arrays of an ``.npz`` (in layer order) and its ``labels`` if any.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from oversmooth.cli._profile import read_embeddings
    >>> p = os.path.join(tempfile.mkdtemp(), "emb.npz")
    >>> np.savez(p, layer_1=np.zeros((3, 2)), layer_0=np.ones((3, 4)))
    >>> [h.shape for h in read_embeddings(p)[0]]
    [(3, 4), (3, 2)]
    """
    import numpy as np

    from ..errors import DataError, FileFormatError

    path = Path(path)
    if not path.is_file():
        raise DataError(f"embeddings file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            keys = list(data.files)
            layers = {int(m.group(1)): data[k] for k in keys if (m := _LAYER_KEY.match(k))}
            labels = data["labels"] if "labels" in keys else None
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise FileFormatError(f"cannot read {path} as an .npz of arrays ({exc})") from None
    if not layers:
        raise FileFormatError(f"{path} has no layer_0 .. layer_L arrays (found: {', '.join(keys) or 'nothing'})")
    for i, h in layers.items():  # squares and sums of squares must stay finite (1e308 overflowed the spreads)
        if h.dtype.kind in "fc" and np.any(np.abs(h[np.isfinite(h)]) > _MAX_ABS):
            raise FileFormatError(f"{path}: layer_{i} has values beyond +-{_MAX_ABS:g}; rescale the embeddings")
    missing = sorted(set(range(max(layers) + 1)) - set(layers))
    if missing:
        raise FileFormatError(f"{path} is missing layer_{missing[0]} (layers must be layer_0 .. layer_{max(layers)})")
    return [layers[i] for i in range(len(layers))], labels


def _load_graph(args: argparse.Namespace) -> tuple[Any, str]:
    import numpy as np

    from ..graphs import PLANETOID_NAMES, load_planetoid, planetoid_structure, read_graph, read_label_array

    path = Path(args.graph)
    if path.is_file():
        labels: Any = args.labels
        if labels is not None and Path(labels).suffix == ".npy":
            labels = read_label_array(labels)
        return read_graph(path, labels), str(path)
    name = args.graph.lower()
    if name not in PLANETOID_NAMES:
        raise _error(f"--graph {args.graph!r} is neither a file nor a Planetoid name ({', '.join(PLANETOID_NAMES)})")
    if args.labels:
        raise _error("--labels goes with a graph file, not a Planetoid name (its labels are used)")
    if args.root:
        return load_planetoid(name, root=args.root, features=False, download=False), name
    return planetoid_structure(name), name


def _cmd_profile(args: argparse.Namespace) -> int:
    import numpy as np

    from .._version import __version__
    from ..experiments import write_csv
    from ..graphs import resolve_split
    from ..measures import profile_embeddings

    if args.seed < 0:
        raise _error(f"--seed must be >= 0, got {args.seed}")
    out = check_output_dir(args.out, "--out", "profile")
    try:
        layers, npz_labels = read_embeddings(args.embeddings)
    except (ValueError, OSError) as exc:
        raise _error(str(exc)) from None
    if args.labels and not Path(args.labels).is_file():
        raise _error(f"labels file not found: {args.labels}")
    graph, graph_name = _load_graph(args)
    n = layers[0].shape[0]
    if graph.n_nodes != n:
        raise _error(f"the graph has {graph.n_nodes} nodes but {args.embeddings} has {n} rows per layer")
    labels = graph.labels
    labels_from = "graph"
    if args.labels is None and npz_labels is not None:
        labels, labels_from = npz_labels, "embeddings file"
    elif args.labels is not None:
        labels_from = args.labels
    if labels is None or not np.any(np.asarray(labels) >= 0):
        raise _error("no labels: give --labels FILE, a 'labels' array in the .npz, or a labelled graph")
    if labels_from == "embeddings file":
        from ..graphs import Graph

        graph = Graph(graph.adjacency, np.asarray(labels).astype(np.int64), name=graph.name, check_symmetric=False)
    try:
        train, _val, test = resolve_split(args.split, graph, seed=args.seed)
    except (ValueError, FileNotFoundError, KeyError) as exc:
        raise _error(f"--split {args.split}: {exc}") from None
    prof = profile_embeddings(layers, labels, graph, train_mask=train, test_mask=test, metrics=args.metrics,
                              seed=args.seed, progress=None if not args.no_progress else False)
    out.mkdir(parents=True, exist_ok=True)
    write_csv(prof.rows, out / "profile.csv")  # atomic itself
    meta = {"oversmooth_version": __version__, "embeddings": str(args.embeddings), "graph": graph_name,
            "labels": labels_from, "split": args.split, "seed": args.seed, "n_train": int(train.size),
            "n_test": int(test.size), "info": prof.info}
    rows = [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()} for r in prof.rows]
    atomic_write_text(out / "profile.json", json.dumps({**meta, "rows": rows}, indent=1, allow_nan=False) + "\n")
    fig = prof.plot(title=f"{Path(args.embeddings).name} on {graph_name} ({args.split} split)")
    with atomic_path(out / "profile.png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    print(f"oversmooth {__version__}  profile  {args.embeddings}: {len(layers)} layers, N={n}, graph {graph_name} "
          f"(labels from {labels_from}), probe split {args.split}: {train.size} train / {test.size} test")
    cols = [c for c in _TABLE if any(r.get(c[0]) is not None for r in prof.rows)]
    print(format_table(prof.rows, cols))
    notes = sorted({r["notes"] for r in prof.rows if r.get("notes")})
    for note in notes[:4]:
        print(f"note: {note}")
    print(f"wrote {out}/profile.csv, {out}/profile.json and {out}/profile.png")
    return 0


def add_parser(sub: Any) -> None:
    """Register ``oversmooth profile``."""
    p = sub.add_parser(
        "profile",
        help="measure saved per-layer embeddings: separation, spreads, energies, MAD/MADGap, rank, probe",
        description="Profile embeddings saved from any framework: an .npz with arrays layer_0 .. layer_L "
        "(N x d each; optionally 'labels'). Writes profile.csv, profile.json and profile.png in --out.",
        epilog="example:\n  oversmooth profile emb.npz --graph cora --split public --out prof",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("embeddings", help=".npz with arrays layer_0, layer_1, ... (one per layer, N rows each)")
    p.add_argument("--graph", required=True, help="a graph file (edge list, .npz, GraphML, GML) or a Planetoid "
                   "name (cora, citeseer, pubmed)")
    p.add_argument("--labels", default=None, help="labels for a graph file: a 'node label' text file or an .npy "
                   "array (default: the graph's labels, else a 'labels' array in the .npz)")
    p.add_argument("--split", default="random", help="the probe's split: public (Planetoid), random (seeded "
                   "60/20/20, default) or an .npz with train/val/test masks or index arrays")
    p.add_argument("--root", default=None, help="read the raw Planetoid files from DIR (default: the shipped "
                   "graph structure and labels)")
    p.add_argument("--metrics", nargs="+", choices=list(PROFILE_METRIC_CHOICES), default=None,
                   help="only these measures (default all)")
    p.add_argument("--seed", type=integer, default=0, help="seed of the random split and the samples (default 0)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--out", required=True, help="output directory")
    p.set_defaults(func=_cmd_profile)
