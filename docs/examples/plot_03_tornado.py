"""
Which assumption matters: the tornado
=====================================

Each shipped scenario declares its uncertain inputs with a low and a high value (``[uncertainty]``,
reasons in ``scenarios/README.md``). :func:`sim.api.sensitivity` runs the scenario at each input's low
and high value with the same seed, so every bar is that input's effect, not sampling noise; the command
line is ``airpicture sensitivity iraq_2012_transponder_off``. 100 campaigns per run here (the command
line uses 200).
"""
import matplotlib.pyplot as plt

from sim.api import load, sensitivity
from sim.prepcache import PrepCache
from sim.products.charts import draw_tornado
from sim.products.style import use_style

scenario = load("iraq_2012_transponder_off")
base, rows = sensitivity(scenario, "p_detect", campaigns=100, cache=PrepCache())
print(f"base P(detect) {base:.3f}")
for row in rows:
    print(f"  {row['key']:38s} {row['low']!s:>6} -> {row['metric_low']:.3f}   "
          f"{row['high']!s:>6} -> {row['metric_high']:.3f}   swing {row['swing']:+.3f}")

with use_style():
    fig, ax = plt.subplots(figsize=(7.5, 4))
    draw_tornado(ax, base, rows, "p_detect")
    ax.set_title("Transponders off: which declared input moves P(detect) most")
    fig.subplots_adjust(left=0.38)

# %%
# Kirkuk's primary radar's availability moves P(detect) most, then Baghdad's: with transponders off,
# those two primary radars are what sees the flights. An input without a bar changes no flight's
# detection over its range. The sweep of the previous example draws Kirkuk's whole curve.
