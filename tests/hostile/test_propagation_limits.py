"""Hostile arguments of the propagation and the profiles: refused up front, one line naming the argument.

Each case runs through the public API in a subprocess under the harness's time and memory limits
(the allocation cases under 1.5 GB: they must be refused before allocating, not by the limit).
"""

from __future__ import annotations

import pytest
from _harness import assert_py_error, run_python

_GRAPH = "from oversmooth.graphs import sample_csbm\ng = sample_csbm(300, p=0.05, q=0.01, seed=0)\n"
_NOISE = "mu=g.metadata['mu'], sigma=g.metadata['sigma']"

CASES = [
    # (class, snippet, names the message must contain)
    ("allocation", _GRAPH + "from oversmooth.measures import depth_profile\n"
     f"depth_profile(g, 2, variance='hutchinson', probes=10**9, {_NOISE})", ("depth_profile", "graph", "probes")),
    ("allocation", _GRAPH + "from oversmooth.measures import feature_noise_variance\n"
     "feature_noise_variance(g, 2, method='hutchinson', probes=10**9)", ("feature_noise_variance", "probes")),
    ("allocation", _GRAPH + "import os\nos.environ['OVERSMOOTH_MAX_BYTES'] = '1000'\n"
     f"from oversmooth.measures import depth_profile\ndepth_profile(g, 2, {_NOISE})",
     ("depth_profile", "graph", "OVERSMOOTH_MAX_BYTES")),
    ("arguments", _GRAPH + f"from oversmooth.measures import depth_profile\ndepth_profile(g, 2, dtype='float16', {_NOISE})",
     ("dtype",)),
    ("arguments", _GRAPH + f"from oversmooth.measures import depth_profile\ndepth_profile(g, 2, backend='jax', {_NOISE})",
     ("backend",)),
    ("arguments", "import numpy as np, scipy.sparse as sp\nfrom oversmooth.operators import iter_propagate\n"
     "list(iter_propagate(sp.eye_array(3, format='csr'), np.ones(3), 2, dtype='int8'))", ("dtype",)),
    ("arguments", "import numpy as np, scipy.sparse as sp\nfrom oversmooth.operators import iter_propagate\n"
     "list(iter_propagate(sp.eye_array(3, format='csr'), np.ones(3), 2, device='cuda'))", ("device",)),
    ("arguments", "import os\nos.environ['OVERSMOOTH_NUM_THREADS'] = 'many'\nimport numpy as np\n"
     "from oversmooth.operators import propagate\nfrom oversmooth.graphs import sample_csbm\n"
     "g = sample_csbm(200, p=0.05, q=0.01, seed=0)\nfrom oversmooth.operators import normalize_adjacency\n"
     "propagate(normalize_adjacency(g), g.features, 2)", ("OVERSMOOTH_NUM_THREADS",)),
    ("arguments", _GRAPH + "from oversmooth.measures import edge_smoothness\nedge_smoothness(g.features, g, sample=-3)",
     ("sample",)),
    ("arguments", _GRAPH + "from oversmooth.measures import edge_smoothness\n"
     "edge_smoothness(g.features, g, sample=[0, 10**6])", ("sample",)),
    ("misread", _GRAPH + "import os\nos.environ['OVERSMOOTH_MAX_BYTES'] = 'lots'\n"
     f"from oversmooth.measures import depth_profile\ndepth_profile(g, 2, {_NOISE})", ("OVERSMOOTH_MAX_BYTES",)),
]


@pytest.mark.parametrize("klass,code,names", [pytest.param(*c, marks=pytest.mark.hostile(c[0])) for c in CASES])
def test_propagation_and_profile_arguments(klass, code, names):
    res = run_python(code, timeout=60, mem_mb=1500)
    assert_py_error(res, *names)
