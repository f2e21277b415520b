"""Claim ``training`` (SCIENCE.md 5.6): per-layer weights match the linear classifier when shallow;
width mitigates for moderate depth, not beyond ~10 layers.

Regime (designed before its run, issue 12)
------------------------------------------
CSBM N = 1000 (quick) / 2000 (full), lambda = 0.5, c = 10 neighbours, SNR 1, Gaussian features
in d = 64 dimensions; linear GNNs with per-layer weights (``h(k+1) = P h(k) W_k``, Glorot
init, Adam) of width 2 and 64 (quick; 2, 8, 64 full) and the linear classifier on ``h(n)``
(SGC), on the same graphs, features and splits. Why this regime: a width-2 chain of
per-layer weights is a product of 2 x 2 matrices behind a 64 -> 2 projection, far below the
width ~ depth that deep linear networks need to train reliably (Du & Hu, ICML 2019, width
Omega(depth)); width 64 meets it at every moderate depth. The old regime (widths 16 and 64,
d = 16) had no struggling narrow model at depth <= 8, so the "mitigates" half was untested.

Rule (fixed before its run)
---------------------------
``lin_w(n)`` = seed-mean test accuracy of width w at depth n, ``lin(n)`` = that of the width
with the best seed-mean validation accuracy, ``sgc(n)`` the linear classifier's; narrowest
width ``w_lo``, widest ``w_hi``.

* shallow (depths <= 2): ``|lin(n) - sgc(n)| <= 0.03`` (kept from the old rule);
* moderate (2 < n <= 10): the narrow model struggles at one depth at least
  (``sgc - lin_w_lo >= 0.03``; else the regime is not the one asked for: FAIL), and at every
  such depth width mitigates: ``lin_w_hi - lin_w_lo >= 0.5 (sgc - lin_w_lo)`` (the widest
  model recovers at least half of what the narrow one lost);
* deep (n > 10): width does not mitigate: ``sgc - lin_w_hi >= 0.05`` and
  ``sgc - lin(n) >= 0.05``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .._core import (FAIL, FULL, PASS, Claim, ClaimResult, Measured, RuleChange, Scale, Verdict, fmt, mark, rnd,
                     seed_for, viz_figure)

__all__ = ["CLAIM", "TRAIN_MATCH_TOL", "TRAIN_SHALLOW_MAX_DEPTH", "TRAIN_DEEP_MIN_DEPTH", "TRAIN_STRUGGLE_MIN",
           "TRAIN_MITIGATE_SHARE", "TRAIN_BEHIND_MIN", "TRAIN_FEATURE_DIM"]

TRAIN_MATCH_TOL = 0.03
TRAIN_SHALLOW_MAX_DEPTH = 2
TRAIN_DEEP_MIN_DEPTH = 10  # "past ~10 layers": depths strictly greater
TRAIN_STRUGGLE_MIN = 0.03  # the narrow model "struggles": at least this far below SGC
TRAIN_MITIGATE_SHARE = 0.5  # width "mitigates": the widest recovers at least half of the narrow model's loss
TRAIN_BEHIND_MIN = 0.05
TRAIN_FEATURE_DIM = 64
TRAIN_FULL_N = 2000  # graph size of the full run (quick: quick_config's)


def run(scale: Scale, seed: int) -> Measured:
    try:
        from ...training import quick_config, run_training
    except ImportError as exc:
        return Measured({}, {}, skipped=f"Skipped: {exc}")
    over: dict[str, Any] = dict(seed=seed_for(seed, 6, 0) % 100_000, widths=scale.train_widths,
                                depths=scale.train_depths, seeds=scale.train_seeds, feature_dim=TRAIN_FEATURE_DIM)
    if scale.name != "quick":
        over.update(n=(TRAIN_FULL_N,), max_epochs=300, patience=50)
    cfg = quick_config(**over)
    rows = run_training(cfg, progress=False)
    for r in rows:
        r["label"] = f"{r['model']} w={r['width']}" if r["width"] is not None else r["model"]
    return Measured({"training": rows}, cfg.to_dict())


def judge(m: Measured, scale: Scale) -> Verdict:
    # Tests Wu et al. (ICLR 2023), section 6, as SCIENCE.md 5.6 states it: "trained linear GNNs with
    # per-layer weights match the linear classifier on h(n) when shallow and fall behind past ~10
    # layers; 'increasing network width is able to mitigate the problem for shallower models' but not
    # beyond ~10 layers. Test the width half in a regime where narrow models at moderate depth actually
    # struggle; design that regime, and fix the rule, before the run."
    from ...tables import group_rows

    rows = m.tables["training"]

    def acc(rs: Sequence[dict[str, Any]], key: str = "test_acc") -> float:
        return float(np.mean([r[key] for r in rs]))

    lin = group_rows([r for r in rows if r["model"] == "linear"], ["depth", "width"])
    sgc = group_rows([r for r in rows if r["model"] == "sgc"], ["depth"])
    widths, depths = list(m.config["widths"]), list(m.config["depths"])
    w_lo, w_hi = min(widths), max(widths)
    per_depth: dict[str, Any] = {}
    ok = True
    struggled = []
    for d in depths:
        best_w = max(widths, key=lambda w: acc(lin[(d, w)], "val_acc"))
        a_lin, a_sgc = acc(lin[(d, best_w)]), acc(sgc[(d,)])
        a_lo, a_hi = acc(lin[(d, w_lo)]), acc(lin[(d, w_hi)])
        e: dict[str, Any] = {"sgc": rnd(a_sgc), "linear_val_selected": rnd(a_lin), "selected_width": best_w,
                             "linear_by_width": {str(w): rnd(acc(lin[(d, w)])) for w in widths},
                             "sgc_minus_linear": rnd(a_sgc - a_lin), "sgc_minus_narrowest": rnd(a_sgc - a_lo),
                             "sgc_minus_widest": rnd(a_sgc - a_hi), "width_gain": rnd(a_hi - a_lo),
                             "bayes_accuracy_core": rnd(acc(sgc[(d,)], "bayes_accuracy"))}
        if d <= TRAIN_SHALLOW_MAX_DEPTH:
            e["regime"] = "shallow"
            e["pass"] = bool(abs(a_lin - a_sgc) <= TRAIN_MATCH_TOL)
        elif d <= TRAIN_DEEP_MIN_DEPTH:
            e["regime"] = "moderate"
            e["narrow_struggles"] = bool(a_sgc - a_lo >= TRAIN_STRUGGLE_MIN)
            if e["narrow_struggles"]:
                struggled.append(d)
                e["pass"] = bool(a_hi - a_lo >= TRAIN_MITIGATE_SHARE * (a_sgc - a_lo))
            else:
                e["pass"] = None  # the narrow model does not struggle here: nothing to mitigate
        else:
            e["regime"] = "deep"
            e["pass"] = bool(a_sgc - a_hi >= TRAIN_BEHIND_MIN and a_sgc - a_lin >= TRAIN_BEHIND_MIN)
        ok &= e["pass"] is not False
        per_depth[f"depth={d}"] = e
    regime_ok = bool(struggled)
    ok &= regime_ok
    numbers = {"sgc_minus_linear_by_depth": {k.split("=")[1]: e["sgc_minus_linear"] for k, e in per_depth.items()},
               "width_gain_by_depth": {k.split("=")[1]: e["width_gain"] for k, e in per_depth.items()},
               "narrow_struggles_at_moderate_depths": struggled, "regime_reached": regime_ok,
               "per_depth": per_depth, "bayes_accuracy_best_core": rnd(acc(rows, "bayes_accuracy_best")),
               "runs": len(rows), "train_seconds": rnd(float(sum(r["wall_time_s"] for r in rows)))}
    return Verdict(PASS if ok else FAIL, numbers)


def summary(numbers: dict[str, Any]) -> str:
    g = numbers["sgc_minus_linear_by_depth"]
    return "SGC - linear GNN: " + ", ".join(f"{fmt(v, 2)} (n={k})" for k, v in g.items())


def explain(res: ClaimResult) -> str:
    pd = res.numbers["per_depth"]
    sh = [(k.split("=")[1], e) for k, e in pd.items() if e["regime"] == "shallow"]
    mo = [(k.split("=")[1], e) for k, e in pd.items() if e["regime"] == "moderate"]
    de = [(k.split("=")[1], e) for k, e in pd.items() if e["regime"] == "deep"]
    def behind(v: float) -> str:
        return f"{fmt(v, 2)} behind" if v >= 0 else f"{fmt(-v, 2)} ahead of"

    bad_sh = [d for d, e in sh if not e["pass"]]
    text = ("Shallow (depth <= 2): |SGC - linear GNN| = "
            + ", ".join(f"{fmt(abs(e['sgc_minus_linear']), 2)} (n={d})" for d, e in sh)
            + f" against a tolerance of {TRAIN_MATCH_TOL}: "
            + ("the trained per-layer weights match the linear classifier on h(n) (SGC). " if not bad_sh else
               f"exceeded at n={', '.join(bad_sh)} (the trained model is off SGC by more than the rule allows). "))
    seeds, n = res.config.get("seeds"), res.config.get("n")
    if bad_sh and seeds is not None and seeds < FULL.train_seeds:
        text += (f"This run tests the {TRAIN_MATCH_TOL} tolerance with {seeds} seeds of N="
                 f"{n[0] if isinstance(n, (list, tuple)) else n}, so seed spread weighs on it; the full run "
                 f"({FULL.train_seeds} seeds, N={TRAIN_FULL_N}) decides, and the rule is not moved. ")
    if mo:
        text += ("Moderate depth: the width-2 model is " + ", ".join(
            f"{behind(e['sgc_minus_narrowest'])} SGC at n={d}" for d, e in mo) + ". ")
        if res.numbers["regime_reached"]:
            text += ("Where it struggles the widest model recovers " + ", ".join(
                f"{fmt(e['width_gain'], 2)} (n={d})" for d, e in mo if e.get("narrow_struggles"))
                + (": width mitigates, as the paper says. " if all(e["pass"] is not False for _, e in mo)
                   else ": not enough for the rule. "))
        else:
            text += (f"It is never {TRAIN_STRUGGLE_MIN} or more behind, so the regime the width half needs was not "
                     "reached and that half is untested (FAIL by the rule fixed in advance). ")
    if de:
        text += ("Deep (> 10 layers): even the widest model is " + ", ".join(
            f"{fmt(e['sgc_minus_widest'], 2)} behind SGC at n={d}" for d, e in de)
            + " -- width does not close the gap: training deep products of weight matrices is the problem, "
              "not their size. ")
    text += ("The dotted 'Bayes accuracy of h(n)' in the figure is the Gaussian view's accuracy "
             f"(best {fmt(res.numbers['bayes_accuracy_best_core'])}); it falls faster than SGC's test accuracy "
             "because it counts the noise shared by neighbours as noise, while a classifier trained on these "
             "nodes absorbs part of it.")
    return text


def table(numbers: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    pd = numbers["per_depth"]
    widths = list(next(iter(pd.values()))["linear_by_width"])
    head = ["depth", "regime", "SGC", *[f"linear w={w}" for w in widths], "SGC - val-selected", "verdict"]
    return head, [[k.split("=")[1], e["regime"], fmt(e["sgc"]), *[fmt(v) for v in e["linear_by_width"].values()],
                   fmt(e["sgc_minus_linear"]), mark(e["pass"])] for k, e in pd.items()]



CLAIM = Claim(
    id="training",
    title="Training: per-layer weights match the linear classifier when shallow; width helps only moderate depth",
    statement="Trained linear GNNs with per-layer weights match the linear classifier on h(n) when shallow and "
              "fall behind past ~10 layers; 'increasing network width is able to mitigate the problem for "
              "shallower models' (tested where a narrow model struggles: width 2, d = 64) but not beyond ~10 "
              "layers.",
    rule=f"seed-mean test accuracy: |linear (val-selected width) - SGC| <= {TRAIN_MATCH_TOL} at depths <= "
         f"{TRAIN_SHALLOW_MAX_DEPTH}; at depths 3..{TRAIN_DEEP_MIN_DEPTH} the narrowest width is >= "
         f"{TRAIN_STRUGGLE_MIN} below SGC somewhere, and wherever it is the widest recovers >= "
         f"{TRAIN_MITIGATE_SHARE:.0%} of that loss; at depths > {TRAIN_DEEP_MIN_DEPTH} SGC - widest >= "
         f"{TRAIN_BEHIND_MIN} and SGC - val-selected >= {TRAIN_BEHIND_MIN}",
    source="Wu et al. (ICLR 2023), section 6: trained linear GNNs with per-layer weights match the linear "
           "classifier when shallow and fall behind past ~10 layers; \"increasing network width is able to "
           "mitigate the problem for shallower models\".",
    run=run, judge=judge, figure=viz_figure("figure_training"), summary=summary, explain=explain, table=table,
    change=RuleChange(
        old_rule="widths 16 and 64, d = 16: |linear (val-selected width) - SGC| <= 0.03 at depths <= 2; at depths "
                 "> 10 SGC - linear >= 0.05 and widest - narrowest width <= 0.02",
        old_verdict="PASS (quick run, seed 0: SGC minus linear 0.000, -0.005, 0.000, -0.010 at depths 1, 2, 4, 8 "
                    "and +0.268 at 16, width gain at 16 within 0.02; full run: the same statuses)",
        why="the width half was only tested where width cannot help (depth > 10) and in a regime where no "
            "narrow model struggled at moderate depth (both widths matched SGC up to depth 8), so 'width "
            "mitigates the problem for shallower models' was never tested; 'widest - narrowest <= 0.02' at "
            "depth > 10 also read 'does not mitigate' as 'no difference at all' rather than 'does not close "
            "the gap to the linear classifier'. The new regime (width 2 vs 64, d = 64) was designed, and this "
            "rule fixed, before its run.",
    ),
)
