"""Running one claim: :func:`run_claim` (run, judge, explain) and the names other modules import from here.

Each claim is declared once, as a :class:`~oversmooth.report.Claim` in its own module of
:mod:`oversmooth.report.claims` (its rule text generated from the constants its judge uses).
This module runs it: ``run`` (the measurements), ``judge`` (the verdict and its numbers, a pure
function of the measurements), then the claim's ``summary`` and ``explain`` write its key
number and its explanation from those numbers.
"""

from __future__ import annotations

import time

from ..errors import ValidationError
from ._core import FAIL, FULL, NOT_RUN, PASS, QUICK, Claim, ClaimResult, Measured, Scale, Verdict
from .claims import CLAIM_IDS, CLAIMS

__all__ = ["ClaimResult", "Scale", "CLAIMS", "CLAIM_IDS", "RULE_CHANGES", "run_claim", "judge_claim", "QUICK",
           "FULL", "PASS", "FAIL", "NOT_RUN"]

#: For every claim whose rule issue 12 changed: ``{"old_rule", "old_verdict", "why"}`` (read from the claims).
RULE_CHANGES: dict[str, dict[str, str]] = {
    cid: {"old_rule": c.change.old_rule, "old_verdict": c.change.old_verdict, "why": c.change.why}
    for cid, c in CLAIMS.items() if c.change is not None}


def judge_claim(claim: Claim, measured: Measured, scale: Scale) -> ClaimResult:
    """Judge ``measured`` by ``claim``'s rule and write its summary and explanation.

    A measurement with ``skipped`` set is NOT RUN with that reason (the judge is not called).

    Examples
    --------
    >>> from oversmooth.report import CLAIMS, QUICK, Measured, judge_claim
    >>> r = judge_claim(CLAIMS["training"], Measured({}, {}, skipped="Skipped: no torch"), QUICK)
    >>> r.status, r.note
    ('NOT RUN', 'Skipped: no torch')
    """
    ch = claim.change
    if measured.skipped:
        verdict = Verdict(NOT_RUN, {}, measured.skipped)
    else:
        verdict = claim.judge(measured, scale)
    note = " ".join(t for t in (verdict.note, ch.note() if ch is not None and not measured.skipped else "") if t)
    res = ClaimResult(claim.id, claim.title, claim.statement, claim.rule, verdict.status, verdict.numbers,
                      f"figures/{claim.id}.png" if measured.tables and claim.figure is not None else None,
                      measured.config, note=note, tables=measured.tables, source=claim.source,
                      old_rule=ch.old_rule if ch else "", old_verdict=ch.old_verdict if ch else "",
                      why_changed=ch.why if ch else "")
    if verdict.status == NOT_RUN:
        res.summary = "not run"
        res.explanation = (f"{measured.skipped} The claim was not run here, so there is no verdict; nothing is "
                           "faked in its place.")
    else:
        res.summary = claim.summary(verdict.numbers)
        res.explanation = claim.explain(res)
    return res


def run_claim(cid: str, scale: Scale, seed: int) -> ClaimResult:
    """Run one claim by id, judge it and time it.

    Examples
    --------
    >>> from oversmooth.report import QUICK, run_claim
    >>> r = run_claim("mixing", QUICK, 0)  # doctest: +SKIP
    >>> r.status, r.summary  # doctest: +SKIP
    ('PASS', '5/5 configs ok; rate within 0.0346 of theory (tol 0.05)')
    """
    if cid not in CLAIMS:
        raise ValidationError(f"claim must be one of {', '.join(CLAIM_IDS)}, got {cid!r}")
    t0 = time.perf_counter()
    claim = CLAIMS[cid]
    res = judge_claim(claim, claim.run(scale, seed), scale)
    res.seconds = time.perf_counter() - t0
    return res
