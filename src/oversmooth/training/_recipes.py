"""Training recipes: named sets of hyper-parameters, and row normalisation of features.

:data:`KIPF` is Kipf & Welling's (ICLR 2017) GCN recipe, as in their code (``gcn/train.py``,
``gcn/models.py``): ``D^-1/2 (A + I) D^-1/2``, row-normalised features, hidden width 16,
dropout 0.5 (on the input features and the hidden layer), Adam with lr 0.01, weight decay
5e-4 on the first layer only, no biases, Glorot weights, at most 200 epochs with their
validation-loss early stopping (window 10) and the final parameters scored
(:func:`oversmooth.training.fit` with ``selection="kipf"``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._utils import check_choice
from ..errors import ValidationError

__all__ = ["Recipe", "RECIPES", "KIPF", "row_normalize", "FEATURE_NORMS"]

#: Feature normalisations: ``none`` or ``row`` (each row divided by its sum; zero rows kept).
FEATURE_NORMS = ("none", "row")


@dataclass(frozen=True)
class Recipe:
    """A named set of training hyper-parameters (see :data:`KIPF`).

    Examples
    --------
    >>> from oversmooth.training import KIPF
    >>> KIPF.width, KIPF.weight_decay_scope, KIPF.selection
    (16, 'first', 'kipf')
    """

    name: str
    normalization: str
    feature_norm: str
    width: int
    dropout: float
    lr: float
    weight_decay: float
    weight_decay_scope: str
    max_epochs: int
    patience: int
    selection: str
    window: int
    bias: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """One line stating the recipe, as written in the training rows."""
        sel = (f"Kipf's early stopping (val loss > mean of previous {self.window}), final state"
               if self.selection == "kipf" else f"best val acc state (patience {self.patience})")
        norm = {"sym": "D^-1/2 (A+I) D^-1/2", "rw": "D^-1 (A+I)"}[self.normalization]
        return (f"{self.name}: {norm}, {self.feature_norm}-normalised features, hidden {self.width}, "
                f"dropout {self.dropout:g}, Adam lr {self.lr:g}, weight decay {self.weight_decay:g} on "
                f"{'the first layer' if self.weight_decay_scope == 'first' else 'all layers'}, "
                f"{'no bias' if not self.bias else 'bias'}, <= {self.max_epochs} epochs, {sel}")


#: Kipf & Welling (2017), GCN on the public Planetoid split.
KIPF = Recipe(name="kipf", normalization="sym", feature_norm="row", width=16, dropout=0.5, lr=0.01,
              weight_decay=5e-4, weight_decay_scope="first", max_epochs=200, patience=0, selection="kipf",
              window=10, bias=False)

#: Recipes by name (``oversmooth train --recipe NAME``).
RECIPES = {"kipf": KIPF}


def row_normalize(x: Any, kind: str = "row") -> Any:
    """Divide each feature row by its sum (``kind="row"``; rows summing to 0 stay 0) or return ``x`` (``"none"``).

    Kipf & Welling's ``preprocess_features`` (and PyG's ``NormalizeFeatures`` for non-negative
    features). Dense arrays and SciPy sparse matrices are both accepted; the result has the
    input's kind.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.training import row_normalize
    >>> row_normalize(np.array([[1.0, 3.0], [0.0, 0.0]])).tolist()
    [[0.25, 0.75], [0.0, 0.0]]
    """
    kind = check_choice(kind, "feature_norm", FEATURE_NORMS)
    if kind == "none":
        return x
    if sp.issparse(x):
        a = sp.csr_array(x, dtype=np.float64)
        s = np.asarray(a.sum(axis=1)).ravel()
        inv = np.divide(1.0, s, out=np.zeros_like(s), where=s != 0)
        return sp.csr_array(sp.diags_array(inv) @ a)
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise ValidationError(f"features must be a 2-D array (N, d), got shape {a.shape}")
    s = a.sum(axis=1, keepdims=True)
    return np.divide(a, s, out=np.zeros_like(a), where=s != 0)
