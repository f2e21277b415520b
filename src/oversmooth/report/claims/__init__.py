"""The claims of issue 12, one module per claim id (each registers its title, statement, PASS
rule and, for a changed rule, the old rule, its old verdict and why, on import).

The runner, :data:`oversmooth.report._claims.CLAIMS`, imports them; use
:func:`oversmooth.report.run_claim` rather than these modules directly.
"""

__all__: list[str] = []
