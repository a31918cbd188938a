"""
A radar of your own
===================

Scenarios are data: a new radar is a ``[[radar]]`` table in a scenario file (keys and units in
:doc:`/scenario-format`). Here a copy of the transponders-off scenario gets one more ASR-11-class primary
radar in western Iraq, at Al Asad air base, with the same figures as Kirkuk's (a 60 NM instrumented range,
0.8 per scan at 55 NM on a 1 m² Swerling 1 target). ``airpicture scenarios --copy
iraq_2012_transponder_off mine.toml`` writes the same copy from the command line. 200 campaigns each.
"""
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sim.api import load, run
from sim.catalog import resolve_scenario
from sim.prepcache import PrepCache

NEW_RADAR = """
[[radar]]
name = "Al Asad PSR"
lat = 33.786
lon = 42.441
antenna_height_m = 15
kind = "primary"
range_nm = 60
scan_period_s = 4.8
availability = 0.9
reference = {range_nm = 55, rcs_m2 = 1.0, pd = 0.8}
pfa = 1e-6
swerling = 1
"""
text = resolve_scenario("iraq_2012_transponder_off").read_text(encoding="utf-8")
mine = Path(tempfile.mkdtemp()) / "mine.toml"
mine.write_text(text + NEW_RADAR, encoding="utf-8")

cache = PrepCache()
before = run("iraq_2012_transponder_off", campaigns=200, cache=cache)
after = run(load(mine), campaigns=200, cache=cache)
print("without:", before)
print("with:   ", after)

# %%
# Which radar tracked how many flights, with and without the new one. A flight is counted once per radar
# that tracked it, so the shares add up to more than P(detect).
names = list(after.radars)
fig, ax = plt.subplots(figsize=(7, 3.8))
y = np.arange(len(names))
ax.barh(y + 0.2, [before.radars.get(n, 0.0) for n in names], height=0.4, label="as shipped", color="#bbbbbb")
ax.barh(y - 0.2, [after.radars[n] for n in names], height=0.4, label="with Al Asad PSR", color="#4477aa")
ax.set_yticks(y, names)
ax.invert_yaxis()
ax.set_xlim(0, 1)
ax.set_xlabel("share of flights tracked")
ax.legend(loc="lower right")
ax.set_title(f"P(detect) {before.p_detect:.3f} as shipped, {after.p_detect:.3f} with the new radar")
fig.tight_layout()

# %%
# The new radar's coverage on the route map.
from sim.products.brief import legend_fitting, map_layers
from sim.products.maps import draw_route_map, legend_handles
from sim.products.style import use_style

with use_style():
    fig = plt.figure(figsize=(9, 8))
    ax = fig.add_axes([0.02, 0.24, 0.96, 0.74])
    layers = map_layers(after.sim, after.result, n_tracks=60)
    draw_route_map(ax, layers)
    handles, labels = legend_handles(layers)
    legend_fitting(fig, handles, labels, center_x=0.5, bottom_y=0.01, width=0.97, fontsize=7, ncols=(2,))
