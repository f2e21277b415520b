"""Draw docs/overview.png, the README's "mixing vs denoising in one picture".

Run: python docs/make_overview.py   (about 2 s)
"""

from pathlib import Path

from oversmooth.experiments import simulate
from oversmooth.viz import figure_overview, save_figure

rows = simulate(n=4000, p=0.0066, q=0.0022, mu=(-1, 1), sigma=1.0, depth=12, seed=0, seeds=3)
save_figure(figure_overview(rows), Path(__file__).with_name("overview.png"))
