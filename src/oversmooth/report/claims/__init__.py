"""The nine claims of the reproduction, one module per claim id, each declaring one :class:`Claim`.

:data:`CLAIMS` maps the fixed ids, in the order the reproduction runs and reports them, to
their :class:`~oversmooth.report.Claim` objects; run them with
:func:`oversmooth.report.run_claim`.

Examples
--------
>>> from oversmooth.report.claims import CLAIMS
>>> list(CLAIMS)[:3]
['mixing', 'denoising', 'optimal_depth']
>>> "0.05" in CLAIMS["mixing"].rule
True
"""

from __future__ import annotations

from .._core import Claim
from . import (appnp_vs_gcn, corrected_conv, denoising, mixing, optimal_depth, pairnorm, real_gnn, real_graphs,
               training)

__all__ = ["CLAIMS", "CLAIM_IDS"]

#: The fixed ids, in the order the reproduction runs and reports them (issue 12).
CLAIMS: dict[str, Claim] = {m.CLAIM.id: m.CLAIM for m in (mixing, denoising, optimal_depth, appnp_vs_gcn, pairnorm,
                                                           real_graphs, training, real_gnn, corrected_conv)}
CLAIM_IDS: tuple[str, ...] = tuple(CLAIMS)
