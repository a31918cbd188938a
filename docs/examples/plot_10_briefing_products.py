"""
The briefing products
=====================

``airpicture brief SCENARIO --out DIR`` runs a scenario and draws everything a briefing needs: the route
map (PNG, PDF, SVG), the flights detected per campaign, P(detect) against the cruise level, the tornado
charts of the declared assumptions, the KML for Google Earth and a one-page PDF. From Python it is
:func:`sim.api.simulate_to` with ``brief=True``. 20 campaigns of 15 flights here (the altitude curve and
the tornado's runs take as many), so the intervals are wide; :doc:`/briefing` says what each file shows.
"""
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

from sim.api import load, simulate_to

out = Path(tempfile.mkdtemp()) / "brief"
simulation, result, summary = simulate_to(out, load("iraq_2012_transponder_off"), campaigns=20, brief=True)
for path in sorted(out.iterdir()):
    print(f"{path.name:22s} {path.stat().st_size:>9,} bytes")

# %%
# Three of the pictures, read back from their files: the route map, P(detect) against the cruise level
# (the diamond is this run's key number) and the tornado of the declared assumptions.
for name in ("map.png", "altitude.png", "tornado.png"):
    fig, ax = plt.subplots(figsize=(9, 6.5))
    ax.imshow(plt.imread(out / name))
    ax.set_axis_off()
    fig.subplots_adjust(0, 0, 1, 1)

# %%
# ``README.txt`` in every output folder says what each file is.
print((out / "README.txt").read_text(encoding="utf-8"))
