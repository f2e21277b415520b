"""The claim object, its result and the scales of the reproduction.

A :class:`Claim` is everything the reproduction knows about one claim, in one place: its
id, title, the source sentence it tests, its statement, the PASS rule (text generated from
the constants its judge uses), how it runs (``run``: scale, seed -> :class:`Measured`),
how it is judged (``judge``: measured -> :class:`Verdict`), its figure, its key number
(``summary``), its explanation written from the numbers (``explain``), its numbers as a
small table (``table``) and, for a rule changed by issue 12, the old rule and verdict.
The report, the terminal table, ``claims.json`` and the README table are rendered from
these objects (:mod:`oversmooth.report._render`, :mod:`oversmooth.report._html`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from .._utils import derive_seed
from ..errors import ValidationError
from ..experiments import SimulationConfig, run_cells
from ..tables import grouped_mean_sem

__all__ = ["Claim", "ClaimResult", "Measured", "Verdict", "RuleChange", "Scale", "QUICK", "FULL",
           "PASS", "FAIL", "NOT_RUN"]

PASS, FAIL, NOT_RUN = "PASS", "FAIL", "NOT RUN"
Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Scale:
    """How big the reproduction runs: ``QUICK`` (under a minute on 2 cores, nine claims) or ``FULL`` (about 40 min: real_gnn).

    Examples
    --------
    >>> from oversmooth.report import FULL, QUICK
    >>> QUICK.name, QUICK.seeds, FULL.seeds
    ('quick', 3, 10)
    """

    name: str
    seeds: int
    mixing_depth: int
    denoise_sizes: tuple[int, ...]
    denoise_depth: int
    denoise_probes: int
    optimal_sizes: tuple[int, ...]
    optimal_depth: int
    appnp_sizes: tuple[int, ...]
    appnp_ratios: tuple[float, ...]
    appnp_alphas: tuple[float, ...]
    appnp_depth: int
    appnp_seeds: int
    pairnorm_depth: int
    corrected_sizes: tuple[int, ...] = (500, 2000)
    corrected_ratios: tuple[float, ...] = (1.5, 3.0, 10.0)
    corrected_depth: int = 32
    corrected_seeds: int = 3
    gnn_depths: tuple[int, ...] = (2, 16)
    gnn_seeds: int = 1
    gnn_epochs: int = 50
    gnn_patience: int = 50
    gnn_pubmed: bool = False
    train_widths: tuple[int, ...] = (2, 64)
    train_depths: tuple[int, ...] = (1, 2, 4, 8, 16)
    train_seeds: int = 2


QUICK = Scale("quick", seeds=3, mixing_depth=8, denoise_sizes=(2000, 8000), denoise_depth=12, denoise_probes=64,
              optimal_sizes=(100, 1000, 10_000, 100_000), optimal_depth=10,
              appnp_sizes=(500, 2000), appnp_ratios=(1.5, 3.0, 10.0), appnp_alphas=(0.1, 0.3),
              appnp_depth=12, appnp_seeds=1, pairnorm_depth=12)
FULL = Scale("full", seeds=10, mixing_depth=8, denoise_sizes=(2000, 4000, 8000, 32_000), denoise_depth=20,
             denoise_probes=256,
             optimal_sizes=(100, 316, 1000, 3162, 10_000, 31_623, 100_000, 316_228, 1_000_000), optimal_depth=12,
             appnp_sizes=(500, 2000, 8000, 32_000), appnp_ratios=(1.5, 2.0, 4.0, 10.0),
             appnp_alphas=(0.05, 0.1, 0.2, 0.4), appnp_depth=16, appnp_seeds=3, pairnorm_depth=20,
             corrected_sizes=(500, 2000, 8000), corrected_ratios=(1.5, 2.0, 4.0, 10.0), corrected_depth=64,
             corrected_seeds=5, gnn_depths=(1, 2, 4, 8, 16, 32, 64), gnn_seeds=10, gnn_epochs=500, gnn_patience=100,
             gnn_pubmed=True,
             train_widths=(2, 8, 64), train_depths=(1, 2, 4, 8, 16, 32), train_seeds=5)


@dataclass
class Measured:
    """What a claim's ``run`` produced: tidy tables, the config, and facts its judge needs beyond the rows.

    ``skipped`` (non-empty) means the claim could not run here (a missing extra or data file): the
    judge is not called and the claim is reported NOT RUN with that reason.

    Examples
    --------
    >>> from oversmooth.report import Measured
    >>> Measured({}, {}, skipped="Skipped: no torch").skipped
    'Skipped: no torch'
    """

    tables: dict[str, Rows]
    config: dict[str, Any]
    context: dict[str, Any] = field(default_factory=dict)
    skipped: str = ""


@dataclass
class Verdict:
    """A judge's answer: the status and the numbers behind it (and an optional note).

    Examples
    --------
    >>> from oversmooth.report import Verdict
    >>> Verdict("PASS", {"rate": 0.61}).status
    'PASS'
    """

    status: str
    numbers: dict[str, Any]
    note: str = ""


@dataclass(frozen=True)
class RuleChange:
    """A rule corrected by issue 12 (before its new run): the old rule, its old verdict and why.

    Examples
    --------
    >>> from oversmooth.report import CLAIMS
    >>> CLAIMS["mixing"].change.old_verdict.split()[0]
    'FAIL'
    """

    old_rule: str
    old_verdict: str
    why: str

    def __post_init__(self) -> None:
        if self.old_verdict.split()[0] not in (PASS, FAIL):
            raise ValidationError(f"old_verdict must start with PASS or FAIL, got {self.old_verdict!r}")

    def note(self) -> str:
        return f"Rule changed. Old rule: {self.old_rule}. Old verdict: {self.old_verdict}. Why: {self.why}"


@dataclass(frozen=True)
class Claim:
    """One claim of the reproduction, declared once (see the module docstring).

    Parameters
    ----------
    id, title : str
        The fixed id and a one-line title.
    source : str
        The sentence of the source (paper, blog or other paper, named) that the claim tests.
    statement : str
        What the claim says, in our words.
    rule : str
        The PASS rule, generated from the module constants the judge uses.
    run : callable
        ``run(scale, seed) -> Measured``.
    judge : callable
        ``judge(measured, scale) -> Verdict``: a pure function of the measurements.
    figure : callable or None
        ``figure(rows) -> matplotlib Figure`` drawn from the claim's main table.
    summary : callable
        ``summary(numbers) -> str``: the key number, one short line.
    explain : callable
        ``explain(result) -> str``: why it passed or failed and what that means, from the numbers.
    table : callable
        ``table(numbers) -> (header, rows)``: the numbers as a small table.
    change : RuleChange, optional
        For a rule changed by issue 12.

    Examples
    --------
    >>> from oversmooth.report import CLAIMS
    >>> c = CLAIMS["pairnorm"]
    >>> c.id, c.change is None, "1.01" in c.rule
    ('pairnorm', True, True)
    """

    id: str
    title: str
    source: str
    statement: str
    rule: str
    run: Callable[[Scale, int], Measured]
    judge: Callable[[Measured, Scale], Verdict]
    figure: Callable[[Sequence[dict[str, Any]]], Any] | None
    summary: Callable[[dict[str, Any]], str]
    explain: Callable[["ClaimResult"], str]
    table: Callable[[dict[str, Any]], tuple[list[str], list[list[Any]]]]
    change: RuleChange | None = None


@dataclass
class ClaimResult:
    """Outcome of one claim: status, the numbers behind it, its explanation and its tidy tables.

    Examples
    --------
    >>> from oversmooth.report import ClaimResult
    >>> r = ClaimResult("mixing", "title", "statement", "rule", "PASS", {"rate": 0.61}, None, {})
    >>> r.to_json()["status"], r.to_json()["numbers"]
    ('PASS', {'rate': 0.61})
    """

    id: str
    title: str
    statement: str
    rule: str
    status: str
    numbers: dict[str, Any]
    figure: str | None
    config: dict[str, Any]
    seconds: float = 0.0
    note: str = ""
    tables: dict[str, Rows] = field(default_factory=dict, repr=False)
    source: str = ""
    summary: str = ""
    explanation: str = ""
    old_rule: str = ""
    old_verdict: str = ""
    why_changed: str = ""

    def to_json(self) -> dict[str, Any]:
        """The ``claims.json`` entry (everything but the tables)."""
        return {"id": self.id, "title": self.title, "status": self.status, "summary": self.summary,
                "numbers": self.numbers, "figure": self.figure, "source": self.source,
                "statement": self.statement, "rule": self.rule, "explanation": self.explanation,
                "old_rule": self.old_rule or None, "old_verdict": self.old_verdict or None,
                "why_changed": self.why_changed or None, "config": self.config,
                "seconds": round(self.seconds, 3), "note": self.note}


# --------------------------------------------------------------------------- helpers of the claim modules
def seed_for(master: int, *keys: int) -> int:
    """A child int seed from the master seed and the claim/config indices (the one seed-derivation helper)."""
    return derive_seed(master, "claim", *keys, as_int=True)


def run_many(specs: Sequence[tuple[str, int, dict[str, Any]]]) -> list[Rows]:
    """Run a claim's grid of ``(label, seed, config kwargs)`` through the sweep machinery.

    :func:`~oversmooth.experiments.run_cells` runs the configs (in this process: ``reproduce``
    runs whole claims side by side instead); every config carries its own seed, so the rows
    do not depend on where they run.
    """
    results = run_cells([SimulationConfig(seed=s, **kw) for _, s, kw in specs])
    for (label, _, _), rows in zip(specs, results):
        for r in rows:
            r["label"] = label
    return results


def viz_figure(name: str) -> Callable[[Rows], Any]:
    """A claim's figure: ``oversmooth.viz.<name>(rows)``, matplotlib imported only when it is drawn.

    Examples
    --------
    >>> from oversmooth.report._core import viz_figure
    >>> viz_figure("figure_mixing").__name__
    'figure_mixing'
    """

    def draw(rows: Rows) -> Any:
        from .. import viz

        return getattr(viz, name)(rows)

    draw.__name__ = draw.__qualname__ = name
    return draw


def seed_mean(rows: Sequence[dict[str, Any]], key: str) -> np.ndarray:
    """The seed-mean of ``key`` per depth."""
    return grouped_mean_sem(rows, key)[1]


def rnd(v: Any, digits: int = 4) -> Any:
    """``v`` to ``digits`` significant digits (floats only; others unchanged)."""
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return v if not math.isfinite(v) else float(f"{v:.{digits}g}")
    return v


def fmt(v: Any, digits: int = 3) -> str:
    """A number for prose and tables: ``0.502``, ``1.2e-05``, ``yes``/``no``, ``-`` for None."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if not math.isfinite(v):
            return str(v)
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
            return f"{v:.{max(1, digits - 1)}e}"
        return f"{v:.{digits}g}"
    return str(v)


def mark(passed: bool | None) -> str:
    """``ok`` / ``FAIL`` / ``not ruled`` for a per-config pass flag."""
    return {True: "ok", False: "FAIL", None: "not ruled"}[passed]
