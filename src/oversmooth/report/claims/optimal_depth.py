"""Claim ``optimal_depth`` (SCIENCE.md 5.3): the error is U-shaped in depth; the best depth is small.

Rule
----
With ``n*`` the argmax of the seed-mean separation ``|gap| / sqrt(var)`` (the argmin of the
Bayes error, free of underflow): for every N, ``0 < n* < D`` and
``sep(n*) >= 1.1 max(sep(0), sep(D))`` (U-shaped error); ``n* <= 10``; ``n*`` at the largest
N exceeds ``n*`` at the smallest and never drops by more than 1 as N grows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import theory
from .._core import (FAIL, PASS, Claim, ClaimResult, Measured, Scale, Verdict, fmt, rnd, run_many, seed_for,
                     seed_mean, viz_figure)

__all__ = ["CLAIM", "U_SHAPE_MARGIN", "MAX_BEST_DEPTH", "MAX_DROP", "optimal_depth_pq"]

U_SHAPE_MARGIN = 1.1
MAX_BEST_DEPTH = 10
MAX_DROP = 1  # n* may drop by at most this much from one N to the next


def optimal_depth_pq(n: int) -> tuple[float, float]:
    """The N-sweep of the optimal-depth claim: (N/2)(p + q) = 3 ln N, lambda = 0.5.

    Examples
    --------
    >>> from oversmooth.report.claims.optimal_depth import optimal_depth_pq
    >>> p, q = optimal_depth_pq(1000)
    >>> round(500 * (p + q), 3)
    20.723
    """
    return theory.csbm_pq(n, 3.0 * math.log(n), 0.5)


def _seeds(scale: Scale, n: int) -> int:
    return max(2, scale.seeds // 3) if n <= 100_000 else 1


def run(scale: Scale, seed: int) -> Measured:
    results = run_many([(f"N={n}", seed_for(seed, 3, i), dict(
        n=n, p=optimal_depth_pq(n)[0], q=optimal_depth_pq(n)[1], depth=scale.optimal_depth,
        seeds=_seeds(scale, n), probes=32)) for i, n in enumerate(scale.optimal_sizes)])
    return Measured({"optimal_depth": [r for rs in results for r in rs]},
                    {"sizes": list(scale.optimal_sizes), "degree": "1 + 3 ln N", "lambda": 0.5, "mu": [-1, 1],
                     "sigma": 1, "depth": scale.optimal_depth, "probes": 32})


def judge(m: Measured, scale: Scale) -> Verdict:
    # Tests Wu et al. (ICLR 2023), section 4.3: the Bayes error first falls (denoising) then rises
    # (mixing); "the optimal number of layers is small", growing like log N / log log N (SCIENCE.md 5.3).
    per_n: dict[str, Any] = {}
    best, best_theory, ushape = [], [], []
    sizes = m.config["sizes"]
    for n in sizes:
        cfg_rows = [r for r in m.tables["optimal_depth"] if r["label"] == f"N={n}"]
        p, q = optimal_depth_pq(n)
        sep = seed_mean(cfg_rows, "separation")
        tsep = seed_mean(cfg_rows, "theory_separation")
        n_star = int(np.argmax(sep))
        interior = 0 < n_star < sep.size - 1
        u = bool(interior and sep[n_star] >= U_SHAPE_MARGIN * max(sep[0], sep[-1]))
        best.append(n_star)
        best_theory.append(int(np.argmax(tsep)))
        ushape.append(u)
        d = theory.expected_degree(n, p, q)
        per_n[f"N={n}"] = {"best_depth": n_star, "theory_best_depth": best_theory[-1], "u_shaped": u,
                           "sep_best_over_ends": rnd(float(sep[n_star] / max(sep[0], sep[-1]))),
                           "log10_bayes_at_best": rnd(float(seed_mean(cfg_rows, "log10_bayes_error")[n_star])),
                           "logN_over_loglogN": rnd(theory.depth_scale_loglog(n)),
                           "logN_over_logd": rnd(theory.depth_scale_logd(n, d)), "d": rnd(d),
                           "seeds": _seeds(scale, n)}
    grows = best[-1] > best[0] and all(b >= a - MAX_DROP for a, b in zip(best, best[1:]))
    small = max(best) <= MAX_BEST_DEPTH
    ok = all(ushape) and small and grows
    numbers = {"best_depth_by_N": dict(zip(map(str, sizes), best)),
               "theory_best_depth_by_N": dict(zip(map(str, sizes), best_theory)),
               "all_u_shaped": all(ushape), "best_depth_small": small, "best_depth_grows": grows, "per_N": per_n}
    return Verdict(PASS if ok else FAIL, numbers)


def summary(numbers: dict[str, Any]) -> str:
    b = numbers["best_depth_by_N"]
    return "best depth " + ", ".join(f"{v} (N={k})" for k, v in b.items())


def explain(res: ClaimResult) -> str:
    n = res.numbers
    per = n["per_N"]
    b = list(n["best_depth_by_N"].items())
    checks = []
    checks.append("the error is U-shaped at every N (the best separation is at least "
                  f"{fmt(min(e['sep_best_over_ends'] for e in per.values()))}x that at depth 0 and at D)"
                  if n["all_u_shaped"] else "the error is NOT U-shaped at "
                  + ", ".join(k for k, e in per.items() if not e["u_shaped"]))
    checks.append(f"the best depth stays small ({max(v for _, v in b)} <= {MAX_BEST_DEPTH})" if n["best_depth_small"]
                  else f"the best depth exceeds {MAX_BEST_DEPTH}")
    checks.append(f"it grows from {b[0][1]} at N={b[0][0]} to {b[-1][1]} at N={b[-1][0]}" if n["best_depth_grows"]
                  else "it does not grow with N as required")
    theory_match = all(e["best_depth"] == e["theory_best_depth"] for e in per.values())
    return ("Denoising wins the first layers, mixing the later ones, so the Bayes error is lowest at a small "
            "depth: " + "; ".join(checks) + ". " + (
                "The theory (nu and the Catalan variance, ours) predicts the same best depth at every N. "
                if theory_match else "The theory's best depths: " + ", ".join(
                    f"{e['theory_best_depth']} ({k})" for k, e in per.items()) + ". ")
            + "The paper's scale log N / log log N is "
            + ", ".join(f"{fmt(e['logN_over_loglogN'])}" for e in per.values())
            + " over these N: a slow growth, as measured. Larger graphs average more noise away per layer "
            "before mixing takes over, hence the later optimum.")


def table(numbers: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    head = ["N", "degree d", "best depth n*", "theory n*", "sep(n*) / max(sep(0), sep(D))", "log10 Bayes at n*",
            "log N / log log N", "U-shaped"]
    return head, [[k.split("=")[1], fmt(e["d"]), e["best_depth"], e["theory_best_depth"],
                   fmt(e["sep_best_over_ends"]), fmt(e["log10_bayes_at_best"]), fmt(e["logN_over_loglogN"]),
                   fmt(e["u_shaped"])] for k, e in numbers["per_N"].items()]



CLAIM = Claim(
    id="optimal_depth",
    title="Optimal depth: the error is U-shaped and the best depth is small",
    source="Wu et al. (ICLR 2023), section 4.3: the Bayes error first decreases and then increases with depth; "
           "\"the optimal number of layers\" is small and grows like log N / log log N.",
    statement="The Bayes error first falls (denoising) then rises (mixing); the best depth is small and grows "
              "slowly with N (like log N / log log N).",
    rule=f"0 < n* < D with sep(n*) >= {U_SHAPE_MARGIN} max(sep(0), sep(D)) for every N; n* <= {MAX_BEST_DEPTH}; n* "
         f"grows from the smallest to the largest N, never dropping by more than {MAX_DROP}",
    run=run, judge=judge, figure=viz_figure("figure_optimal_depth"), summary=summary, explain=explain, table=table,
)
