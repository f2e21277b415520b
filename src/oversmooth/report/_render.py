"""Text renderings of the claim results: the terminal table, the README's markdown table, claims.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from ..errors import ArgumentTypeError
from ._core import ClaimResult

__all__ = ["format_claims_table", "claims_markdown", "write_claims_json", "load_claims_json"]


def _check(results: Sequence[Any]) -> Sequence[ClaimResult]:
    results = list(results)
    for r in results:
        if not isinstance(r, ClaimResult):
            raise ArgumentTypeError(f"results must be ClaimResult objects (from reproduce or run_claim, or "
                                    f"load_claims_json), got {type(r).__name__}")
    return results


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_claims_table(results: Sequence[ClaimResult], width: int = 150) -> str:
    """The terminal table: ``claim  STATUS  key number`` (one line per claim).

    Examples
    --------
    >>> from oversmooth.report import ClaimResult, format_claims_table
    >>> r = ClaimResult("mixing", "t", "s", "r", "PASS", {}, None, {}, summary="rate within 0.01")
    >>> print(format_claims_table([r]))
    claim          status   key number
    mixing         PASS     rate within 0.01
    """
    lines = [f"{'claim':<15}{'status':<9}key number"]
    for c in _check(results):
        lines.append(f"{c.id:<15}{c.status:<9}{_clip(c.summary or c.note, max(20, width - 24))}")
    return "\n".join(lines)


def claims_markdown(results: Sequence[ClaimResult]) -> str:
    """The README's claims table in markdown: claim, what it tests, verdict, key number, time.

    Examples
    --------
    >>> from oversmooth.report import ClaimResult, claims_markdown
    >>> r = ClaimResult("pairnorm", "PairNorm keeps means apart", "s", "r", "PASS", {}, None, {},
    ...                 seconds=9.6, summary="best sep PN/GCN = 0.99")
    >>> print(claims_markdown([r]))
    | claim | what it tests | verdict | key number | time |
    |---|---|---|---|---|
    | `pairnorm` | PairNorm keeps means apart | **PASS** | best sep PN/GCN = 0.99 | 9.6 s |
    """
    def cell(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    lines = ["| claim | what it tests | verdict | key number | time |", "|---|---|---|---|---|"]
    for c in _check(results):
        lines.append(f"| `{c.id}` | {cell(c.title)} | **{c.status}** | {cell(c.summary or c.note)} | "
                     f"{c.seconds:.1f} s |")
    return "\n".join(lines)


def write_claims_json(results: Sequence[ClaimResult], path: str | Path) -> Path:
    """Write ``claims.json``: one entry per claim (:meth:`ClaimResult.to_json`).

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> from oversmooth.report import ClaimResult, write_claims_json
    >>> p = write_claims_json([ClaimResult("mixing", "t", "s", "r", "PASS", {}, None, {})],
    ...                       pathlib.Path(tempfile.mkdtemp()) / "claims.json")
    >>> json.loads(p.read_text())[0]["id"]
    'mixing'
    """
    path = Path(path)
    path.write_text(json.dumps([c.to_json() for c in _check(results)], indent=1) + "\n", encoding="utf-8")
    return path


def load_claims_json(path: str | Path) -> list[ClaimResult]:
    """Read ``claims.json`` back into :class:`ClaimResult` objects (without their tables).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from oversmooth.report import ClaimResult, load_claims_json, write_claims_json
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "claims.json"
    >>> _ = write_claims_json([ClaimResult("mixing", "t", "s", "r", "FAIL", {"x": 1}, None, {})], p)
    >>> load_claims_json(p)[0].status
    'FAIL'
    """
    out = []
    for e in json.loads(Path(path).read_text(encoding="utf-8")):
        out.append(ClaimResult(e["id"], e["title"], e["statement"], e["rule"], e["status"], e["numbers"],
                               e["figure"], e["config"], seconds=e.get("seconds", 0.0), note=e.get("note", ""),
                               source=e.get("source", ""), summary=e.get("summary", ""),
                               explanation=e.get("explanation", ""), old_rule=e.get("old_rule") or "",
                               old_verdict=e.get("old_verdict") or "", why_changed=e.get("why_changed") or ""))
    return out
