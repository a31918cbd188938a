"""
A what-if sweep
===============

How much does the transponders-off answer rest on Kirkuk's primary radar? Sweep its availability, the
same as ``airpicture sweep iraq_2012_transponder_off --key "radar[Kirkuk PSR].availability" --values
0,0.25,0.5,0.75,0.9,1``.

Every point runs with the scenario's seed, so the points differ by the availability only (the same
flights meet the same draws). 150 campaigns of 15 flights per point here.
"""
import matplotlib.pyplot as plt

from sim.api import load, run, sweep
from sim.prepcache import PrepCache
from sim.products.charts import draw_sweep
from sim.products.style import use_style

scenario = load("iraq_2012_transponder_off")
cache = PrepCache()          # prepared parts shared by every run below: a changed availability prepares nothing
points = sweep(scenario, "radar[Kirkuk PSR].availability", [0, 0.25, 0.5, 0.75, 0.9, 1.0], campaigns=150,
               cache=cache)
for p in points:
    print(f"availability {p['value']:<5} P(detect) {p['p_detect']:.3f} "
          f"[{p['p_detect_ci95'][0]:.3f}-{p['p_detect_ci95'][1]:.3f}]")

with use_style():
    fig, ax = plt.subplots(figsize=(6.5, 4))
    draw_sweep(ax, "radar[Kirkuk PSR].availability", points)
    ax.set_title("Transponders off: P(detect) against Kirkuk PSR's availability")

# %%
# One what-if alone is :func:`sim.api.run` with ``overrides``, the ``--set`` keys of the command line.
# Two changes at once: Kirkuk's primary radar down half the time, and the flights at 3,000 m.
r = run(scenario, {"radar[Kirkuk PSR].availability": 0.5, "aircraft.cruise_altitude_m": 3000},
        campaigns=150, cache=cache)
print(r.title)
print(r.overrides)
print(r.headline)
