"""
A first run
===========

Run a shipped scenario from Python, read its headline, and draw the route map and the number of flights
detected per campaign.

:func:`sim.api.run` takes a scenario file or a shipped scenario's name and returns a
:class:`~sim.api.Run`. Here 200 campaigns of 15 flights (the scenario file says 2,000): enough for a first
look, with an interval about three times wider than the briefed one.
"""
import matplotlib.pyplot as plt

from sim.api import run

r = run("iraq_2012_transponder_off", campaigns=200)
r

# %%
# The headline, as ``airpicture run`` prints it first, and the numbers behind it: P(detect) per flight
# with its 95% interval, and the share of flights each radar tracked.
print(r.headline)
print("P(detect)", r.p_detect, "95% interval", r.p_detect_ci95)
for name, p in r.radars.items():
    print(f"  {name:18s} tracked {p:6.1%} of flights")

# %%
# The route map of the briefing products (:func:`sim.products.maps.draw_route_map` draws on any
# matplotlib ``Axes``): routes, primary radar coverage at the cruise level, sampled flights coloured by
# detection and first detections. ``r.sim`` and ``r.result`` are the prepared simulation and the
# per-flight results the products draw.
from sim.products.brief import legend_fitting, map_layers
from sim.products.maps import draw_route_map, legend_handles
from sim.products.style import use_style

with use_style():
    fig = plt.figure(figsize=(9, 8))
    ax = fig.add_axes([0.02, 0.24, 0.96, 0.74])
    layers = map_layers(r.sim, r.result, n_tracks=60)
    draw_route_map(ax, layers)
    handles, labels = legend_handles(layers)
    legend_fitting(fig, handles, labels, center_x=0.5, bottom_y=0.01, width=0.97, fontsize=7, ncols=(2,))

# %%
# Flights detected per campaign: the mean and the band that holds 90% of campaigns.
from sim.products.charts import detections_per_campaign, draw_detections_histogram

with use_style():
    fig, ax = plt.subplots(figsize=(6, 3.5))
    draw_detections_histogram(ax, detections_per_campaign(r.result), r.summary["flights_per_campaign"])
    ax.set_title(f"{r.scenario}: flights detected per campaign ({r.campaigns} campaigns)")
