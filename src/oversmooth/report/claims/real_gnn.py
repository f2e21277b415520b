"""Claim ``real_gnn`` (SCIENCE.md 5.8): trained GCN and APPNP vs depth on Cora, CiteSeer and PubMed.

The paper's real-data experiment: 60/20/20 random splits, Adam, APPNP with alpha = 0.1. Runs
through :func:`oversmooth.training.run_training` (``models=("gcn", "appnp")``). Cora and
CiteSeer need their raw Planetoid files (``ind.<name>.*``) with real features: from the
folder ``$OVERSMOOTH_PLANETOID_RAW`` when set, else the package cache
(:func:`oversmooth.graphs.load_planetoid`, no download); without them the claim is NOT RUN
and says why. PubMed uses its real features when its files load, else the Gaussian class
features on its shipped structure (stated in the numbers).

Rule (fixed before its run, issue 12)
-------------------------------------
Per graph, ``acc_M(n)`` = seed-mean test accuracy of model M at depth n, ``D`` the largest
depth (16 quick, 64 full), ``best_M`` = max over depths:

* APPNP holds: ``acc_APPNP(D) >= best_APPNP - 0.05``;
* GCN collapses: ``acc_GCN(D) <= best_GCN - 0.10``;
* APPNP ahead at depth D: ``acc_APPNP(D) > acc_GCN(D)``.

PASS iff all three hold on every graph run. Reported, not ruled: whose best accuracy is
higher per graph (the paper says GCN's best wins "on certain graphs").

Scales: full = depths 1, 2, 4, 8, ..., 64, 10 seeds, at most 500 epochs (best validation
accuracy, early stopping with patience 100), hidden width 16, all three graphs; quick = depths
2 and 16, 1 seed, 50 epochs (no early stop), Cora and CiteSeer only (a smoke test of the same
rule: the first quick configuration, depths 2, 8, 32, 100 epochs with patience 30 and PubMed,
took 172 s here, against a budget of ~20 s; it ended FAIL, Cora's APPNP at 0.29 at depth 2,
i.e. not trained).

Training budget corrected before the second full run: the first full run (at most 200 epochs,
patience 50) FAILed on Cora only, and its own rows showed that the models were not trained to
convergence: most runs that learnt were still improving at the 200-epoch cap, and runs whose
validation accuracy sat on a plateau for their first 50 epochs were stopped there (Cora's
1-layer GCN at 0.40, one APPNP seed at 0.41-0.44 at depths 8, 32 and 64, which alone moved
APPNP's depth-64 mean below the rule's tolerance). The thresholds did not move; the numbers
report per graph how many runs still ended within the last 10% of the budget and how many
stopped on an early plateau, so an undertrained run shows.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .._core import (FAIL, FULL, PASS, Claim, ClaimResult, Measured, RuleChange, Scale, Verdict, fmt, mark, rnd,
                     seed_for, viz_figure)

__all__ = ["CLAIM", "PLANETOID_RAW_ENV", "planetoid_root", "GNN_ALPHA", "HOLD_TOL", "COLLAPSE_DROP"]

PLANETOID_RAW_ENV = "OVERSMOOTH_PLANETOID_RAW"
GNN_ALPHA = 0.1  # the paper's APPNP alpha
HOLD_TOL = 0.05  # APPNP "holds its accuracy": within 0.05 of its best at depth D
COLLAPSE_DROP = 0.10  # GCN "collapses": at least 0.10 below its best at depth D
GNN_WIDTH = 16  # hidden width (Kipf & Welling's 16; a width-64 full run would take hours on one core)
GRAPHS_REAL = ("cora", "citeseer")  # must have real features
GRAPH_FALLBACK = "pubmed"  # real features when present, else Gaussian (stated)


def planetoid_root() -> str | None:
    """The raw Planetoid folder: ``$OVERSMOOTH_PLANETOID_RAW`` when set, else ``None`` (package cache).

    Examples
    --------
    >>> import os
    >>> from oversmooth.report.claims.real_gnn import planetoid_root
    >>> planetoid_root() == (os.environ.get("OVERSMOOTH_PLANETOID_RAW") or None)
    True
    """
    return os.environ.get(PLANETOID_RAW_ENV) or None


def _source(name: str, root: str | None) -> tuple[str | None, str]:
    """``(kind, reason)``: 'real' when the graph's own features load from root / the cache."""
    from ...training import load_graph_source

    where = f"${PLANETOID_RAW_ENV}={root}" if root else "the package cache (set $OVERSMOOTH_PLANETOID_RAW)"
    if root is not None and not os.path.isdir(root):
        return None, f"{where} is not a folder"
    try:
        _, kind = load_graph_source(name, root=root)
    except (OSError, ValueError) as exc:
        return None, f"{name}: raw Planetoid files not loadable from {where}: {exc}"
    if kind != "real":
        return None, f"{name}: no raw Planetoid files in {where}"
    return kind, ""


def _training_workers(scale: Scale) -> int:
    """Processes for the full grid's seeds (the usable CPUs; one in quick mode, where starting them costs more)."""
    if scale.gnn_seeds <= 1:
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def run(scale: Scale, seed: int) -> Measured:
    # Tests Wu et al. (ICLR 2023)'s real-data experiment as SCIENCE.md 5.8 states it: "trained GCN and
    # APPNP accuracy vs depth on Cora and CiteSeer (real features) and PubMed: APPNP holds its accuracy
    # at large depth where GCN collapses; report per graph whose best accuracy is higher (the paper says
    # GCN wins 'on certain graphs')."
    try:
        from ...training import TrainingConfig, run_training
    except ImportError as exc:
        return Measured({}, {}, skipped=f"Skipped: {exc}")
    root = planetoid_root()
    plan: list[tuple[str, dict[str, Any], str]] = []
    for name in GRAPHS_REAL:
        kind, why = _source(name, root)
        if kind is None:
            return Measured({}, {"root": root}, skipped=f"Skipped: {why}. Cora and CiteSeer need their real features.")
        plan.append((name, dict(root=root, feature_norm="row"), "real (row-normalised)"))
    kind, why = _source(GRAPH_FALLBACK, root)
    if not scale.gnn_pubmed:
        pass  # quick mode: PubMed is left out (a depth-32 GCN there takes ~1.2 s per epoch on one core)
    elif kind == "real":
        plan.append((GRAPH_FALLBACK, dict(root=root, feature_norm="row"), "real (row-normalised)"))
    else:
        plan.append((GRAPH_FALLBACK, dict(features="gaussian"),
                     f"gaussian class features on the shipped structure (fallback: {why})"))
    rows: list[dict[str, Any]] = []
    configs: dict[str, Any] = {}
    for i, (name, kw, feat) in enumerate(plan):
        cfg = TrainingConfig(graph=name, models=("gcn", "appnp"), depths=scale.gnn_depths,
                             widths=(GNN_WIDTH,), seeds=scale.gnn_seeds,
                             seed=seed_for(seed, 8, i) % 100_000, alpha=GNN_ALPHA, split="random",
                             max_epochs=scale.gnn_epochs, patience=scale.gnn_patience, bayes=False, **kw)
        g_rows = run_training(cfg, progress=False, workers=_training_workers(scale))
        for r in g_rows:
            r["label"] = f"{name} {r['model']}"
        rows += g_rows
        configs[name] = {k: v for k, v in cfg.to_dict().items()
                         if k in ("models", "depths", "widths", "seeds", "seed", "alpha", "lr", "weight_decay",
                                  "dropout", "max_epochs", "patience", "split", "feature_norm", "features", "root")}
    return Measured({"real_gnn": rows},
                    {"graphs": [p[0] for p in plan], "features": {p[0]: p[2] for p in plan},
                     "planetoid_root": root or "package cache", "optimizer": "Adam",
                     "split": "60/20/20 random per seed", "depths": list(scale.gnn_depths), "training": configs})


def judge(m: Measured, scale: Scale) -> Verdict:
    # Tests Wu et al. (ICLR 2023)'s real-data experiment as SCIENCE.md 5.8 states it (see run).
    depths = m.config["depths"]
    depth_max = max(depths)
    numbers: dict[str, Any] = {}
    ok = True
    for name in m.config["graphs"]:
        g_rows = [r for r in m.tables["real_gnn"] if r["graph"] == name]
        acc: dict[str, np.ndarray] = {}
        fit: dict[str, np.ndarray] = {}
        for mdl in ("gcn", "appnp"):
            acc[mdl], fit[mdl] = (np.array([np.mean([r[col] for r in g_rows if r["model"] == mdl and r["depth"] == d])
                                            for d in depths]) for col in ("test_acc", "train_acc"))
        holds = bool(acc["appnp"][-1] >= acc["appnp"].max() - HOLD_TOL)
        collapses = bool(acc["gcn"][-1] <= acc["gcn"].max() - COLLAPSE_DROP)
        ahead = bool(acc["appnp"][-1] > acc["gcn"][-1])
        entry = {
            "features": m.config["features"][name], "n": g_rows[0]["n"],
            "gcn_acc_by_depth": {str(d): rnd(float(a)) for d, a in zip(depths, acc["gcn"])},
            "appnp_acc_by_depth": {str(d): rnd(float(a)) for d, a in zip(depths, acc["appnp"])},
            # how well each depth fits its own training nodes: a deep GCN that cannot fit them is oversmoothed,
            # a shallow one that cannot is underfitted (reported, not ruled)
            "gcn_train_acc_by_depth": {str(d): rnd(float(a)) for d, a in zip(depths, fit["gcn"])},
            "appnp_train_acc_by_depth": {str(d): rnd(float(a)) for d, a in zip(depths, fit["appnp"])},
            "gcn_best": rnd(float(acc["gcn"].max())), "gcn_best_depth": depths[int(np.argmax(acc["gcn"]))],
            "appnp_best": rnd(float(acc["appnp"].max())),
            "appnp_best_depth": depths[int(np.argmax(acc["appnp"]))],
            "best_winner": "gcn" if acc["gcn"].max() > acc["appnp"].max() else "appnp",
            f"gcn_drop_at_{depth_max}": rnd(float(acc["gcn"].max() - acc["gcn"][-1])),
            f"appnp_drop_at_{depth_max}": rnd(float(acc["appnp"].max() - acc["appnp"][-1])),
            "appnp_holds": holds, "gcn_collapses": collapses, "appnp_ahead_at_max_depth": ahead,
        }
        cap = int(m.config["training"][name]["max_epochs"])
        entry["runs"] = len(g_rows)
        entry["runs_best_in_last_10pct_of_budget"] = sum(int(r["best_epoch"]) > 0.9 * cap for r in g_rows)
        entry["runs_stopped_on_early_plateau"] = sum(int(r["best_epoch"]) <= 10 and int(r["epochs"]) < cap
                                                     for r in g_rows)
        entry["pass"] = holds and collapses and ahead
        ok &= entry["pass"]
        numbers[name] = entry
    note = "" if scale.gnn_pubmed else ("Quick mode: Cora and CiteSeer only, depths 2 and 16, 1 seed, 50 epochs (a "
                                        "smoke test of the rule; PubMed and depths 1..64 with 10 seeds in the full run).")
    return Verdict(PASS if ok else FAIL, numbers, note)


def summary(numbers: dict[str, Any]) -> str:
    return "; ".join(f"{k}: acc at D GCN {fmt(list(e['gcn_acc_by_depth'].values())[-1])}, APPNP "
                     f"{fmt(list(e['appnp_acc_by_depth'].values())[-1])}" for k, e in numbers.items())


def explain(res: ClaimResult) -> str:
    parts = []
    for name, e in res.numbers.items():
        d = list(e["gcn_acc_by_depth"])[-1]
        why = [] if e["pass"] else [w for w, flag in (("APPNP does not hold its accuracy", e["appnp_holds"]),
                                                     ("GCN does not collapse", e["gcn_collapses"]),
                                                     ("APPNP is not ahead", e["appnp_ahead_at_max_depth"])) if not flag]
        parts.append(f"{name}: at depth {d} GCN {fmt(e['gcn_acc_by_depth'][d])} (best {fmt(e['gcn_best'])}), "
                     f"APPNP {fmt(e['appnp_acc_by_depth'][d])} (best {fmt(e['appnp_best'])})"
                     + (f" -- {', '.join(why)}" if why else " -- as the paper says"))
    text = "; ".join(parts) + ". "
    if not res.note.startswith("Quick mode"):
        text += ("Training diagnostics: " + ", ".join(
            f"{k} {e['runs_best_in_last_10pct_of_budget']}/{e['runs']} runs still improving in the last 10% of the "
            f"epoch budget and {e['runs_stopped_on_early_plateau']} stopped on an early plateau"
            for k, e in res.numbers.items() if "runs" in e) + ". ")
        text += ("GCN's training accuracy by depth (seed mean): " + "; ".join(
            f"{k} " + ", ".join(f"{d}: {fmt(a)}" for d, a in e["gcn_train_acc_by_depth"].items())
            for k, e in res.numbers.items() if "gcn_train_acc_by_depth" in e)
            + " -- where it is low at depth 1 the single linear layer underfits (weight decay against the small "
              "gradients of row-normalised features), which is not oversmoothing. ")
    quick = bool(res.note.startswith("Quick mode"))
    if quick:
        low = min(min(e["appnp_acc_by_depth"].values()) for e in res.numbers.values())
        text += ("This quick run is a smoke test, not the experiment: 1 seed, 50 epochs and no early stopping "
                 f"leave the models undertrained (APPNP's lowest accuracy here is {fmt(low)}, far below the ~0.8 a "
                 "trained APPNP reaches on Cora), so its verdict says nothing about the claim; the full run "
                 f"({FULL.gnn_seeds} seeds, {FULL.gnn_epochs} epochs with early stopping, depths "
                 f"{min(FULL.gnn_depths)}..{max(FULL.gnn_depths)}, PubMed too) is the test. ")
    text += ("Whose best accuracy is higher (reported, not ruled): " + ", ".join(
        f"{e['best_winner'].upper()} on {k}" for k, e in res.numbers.items()) + ".")
    return text


def table(numbers: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    depths = list(next(iter(numbers.values()))["gcn_acc_by_depth"])
    head = ["graph", "model", *[f"depth {d}" for d in depths], "best", "verdict"]
    rows = []
    for k, e in numbers.items():
        rows.append([k, "GCN", *[fmt(v) for v in e["gcn_acc_by_depth"].values()], fmt(e["gcn_best"]), mark(e["pass"])])
        rows.append([k, f"APPNP alpha={GNN_ALPHA:g}", *[fmt(v) for v in e["appnp_acc_by_depth"].values()],
                     fmt(e["appnp_best"]), ""])
    return head, rows



CLAIM = Claim(
    id="real_gnn",
    title="Real GNNs: trained APPNP holds its accuracy at depth where GCN collapses",
    statement="The paper's real-data experiment: GCN and APPNP (alpha = 0.1) trained with Adam on 60/20/20 "
              "random splits of Cora, CiteSeer (real features) and PubMed; deep GCNs lose their accuracy, APPNP "
              "keeps it, yet GCN's best accuracy can be the higher one on certain graphs.",
    rule=f"per graph, seed-mean test accuracy at the largest depth D (16 quick, 64 full; full: trained at most "
         f"{FULL.gnn_epochs} epochs, patience {FULL.gnn_patience}): APPNP within {HOLD_TOL} of its best, GCN at least "
         f"{COLLAPSE_DROP} below its best, APPNP above GCN; whose best is higher reported",
    source="Wu et al. (ICLR 2023), real-data experiment: trained on Cora, CiteSeer and PubMed, deep GCNs lose their "
           "accuracy while APPNP (alpha = 0.1) keeps it, yet GCN's best accuracy is higher \"on certain graphs\".",
    run=run, judge=judge, figure=viz_figure("figure_real_gnn"), summary=summary, explain=explain, table=table,
    change=RuleChange(
        old_rule=f"the same thresholds (APPNP within {HOLD_TOL} of its best at D, GCN at least {COLLAPSE_DROP} below "
                 "its best, APPNP above GCN) on models trained at most 200 epochs with patience 50 (full run)",
        old_verdict="FAIL (full run, seed 0, 32 min: citeseer and pubmed pass; cora's APPNP at depth 64 0.793 against "
                    "its best 0.861, a drop of 0.068 > 0.05, with one of its 10 seeds stopped at epoch 56 at 0.44 at "
                    "depths 8, 32 and 64; quick run: PASS)",
        why="the first full run's rows showed its models were not trained: the runs that learnt were mostly still "
            "improving at the 200-epoch cap (best epoch above 180), and a run whose validation accuracy stayed on a "
            "plateau for its first 50 epochs was stopped there (cora's 1-layer GCN at 0.40, the APPNP seed above), so "
            "the verdict measured the training budget, not depth. The budget is now 500 epochs with patience 100; "
            "the thresholds are unchanged and the numbers count, per graph, the runs still improving near the cap "
            "and the runs stopped on an early plateau. (Seen in the second full run: cora's 1-layer GCN stays at "
            "0.40 with the larger budget too; it is underfitted by weight decay, not stopped early: see the "
            "explanation's training accuracies.)",
    ),
)
