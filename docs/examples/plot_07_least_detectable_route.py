"""
The least-detectable route
==========================

"And if they knew where our radars are?" :func:`sim.api.evade` finds, for each extra-distance budget over
the great circle, the route between the scenario's airports that is least detected **as it will be
flown** (with the scenario's sideways spread, each radar's availability and outages), then flies the
best routes through the Monte Carlo. The command line is ``airpicture evade iraq_2012_transponder_off
--max-extra-km 0,50,100 --levels cruise``; the method, its assumptions and error bounds are in
:doc:`/evade`.

Here at the cruise level only, with 40 campaigns of 15 flights per route (the command line re-scores
with the scenario's 2,000), so the intervals are wide.
"""
import matplotlib.pyplot as plt

from sim.api import evade
from sim.products.evade import draw_front
from sim.products.style import use_style

result = evade("iraq_2012_transponder_off", [0, 50, 100], levels="cruise", campaigns=40)
for route, budgets in result.points(False):
    print(f"budgets {[round(b / 1000) for b in budgets]} km: {route.extra_m / 1000:6.1f} km extra, "
          f"{route.flight_time_s / 60:5.1f} min, P(detect) as flown {route.p_detect:.3f}, "
          f"on the planned track {route.p_detect_planned:.3f}")
direct = result.direct[False]
print(f"direct route: P(detect) as flown {direct.p_detect:.3f}")

# %%
# The front: P(detect) and P(stopped) as flown against the extra distance each route flies, one point per
# distinct route labelled with the budgets it answers; the same routes flown exactly on their planned
# line are the lighter series.
with use_style():
    fig, ax = plt.subplots(figsize=(7, 4.5))
    draw_front(ax, result)
    ax.set_title("Transponders off, at the cruise level: the least-detectable routes as flown")
    fig.tight_layout()

# %%
# The routes over the hazard field they were searched on (each radar's detection hazard per minute of
# flight at the cruise level, as flown: the map of ``airpicture evade --out``), drawn by
# :func:`sim.products.evade.draw_hazard_panel` on a matplotlib ``Axes``.
from geo.coverage import load_borders, project_geometry
from sim.products.evade import draw_hazard_panel

countries = tuple((name, iso, project_geometry(shape, result.grid.transformer))
                  for name, iso, shape in load_borders())
with use_style():
    fig, ax = plt.subplots(figsize=(10, 7))
    image, handles = draw_hazard_panel(ax, result, result.levels[0], False, countries)
    fig.colorbar(image, ax=ax, shrink=0.6, label="hazard per minute of flight, -ln P(not detected)")
    ax.legend([a for a, _ in handles], [b for _, b in handles], loc="upper left", fontsize=7)
