"""
Where new radars should go
==========================

:func:`sim.api.place` asks the planner's question: given K more copies of one of the scenario's radars,
where do they catch the most flights? Candidate sites here are a 100 km grid over Iraq's airspace; lazy
greedy picks the sites one at a time, each with its marginal gain and an upper bound on the best layout
of that size, and the layout is re-scored by the Monte Carlo. The command line is ``airpicture place
iraq_2012_transponder_off --add 2 --like "Kirkuk PSR" --grid-km 100``. Method, assumptions and
guarantees (and the flyer who re-routes around the new radars, ``against="adaptive"``, which takes
minutes): :doc:`/place`.

Small here: 100 campaigns to choose on, 100 to re-score.
"""
import matplotlib.pyplot as plt

from sim.api import place
from sim.products.place import draw_objective
from sim.products.style import use_style

result = place("iraq_2012_transponder_off", 2, "Kirkuk PSR", grid_km=100, select_campaigns=100, campaigns=100)
print(f"P(detect) with today's radars on the selection sample: {result.base_value:.3f}")
for k, step in enumerate(result.steps, 1):
    print(f"  {k}: {result.candidates[step.index].name:24s} gain {step.gain:+.4f}  sample {step.value:.4f}  bound {step.bound:.4f}")
print("re-scored by the Monte Carlo:", result.rescore_layout.value)

# %%
# The objective against the number of radars added: the greedy value, its bound and the Monte Carlo.
with use_style():
    fig, ax = plt.subplots(figsize=(6.5, 4))
    draw_objective(ax, result)
    ax.set_title("Transponders off: P(detect) with K more Kirkuk-class radars")
    fig.tight_layout()

# %%
# The chosen sites, numbered, with their coverage outlined, over the existing radars' coverage, the
# candidate sites and the scenario's routes (:func:`sim.products.place.draw_layout_panel`).
from geo.coverage import load_borders, project_geometry
from sim.products.place import draw_layout_panel

rs = result.rescore_layout
countries = tuple((name, iso, project_geometry(shape, rs.sim.airspace.transformer))
                  for name, iso, shape in load_borders())
with use_style():
    fig, ax = plt.subplots(figsize=(8, 7))
    handles = draw_layout_panel(ax, result, rs, countries, title="2 more Kirkuk-class radars")
    ax.legend([a for a, _ in handles], [b for _, b in handles], loc="lower left", fontsize=7)
