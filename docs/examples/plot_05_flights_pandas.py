"""
Reading flights in pandas
=========================

One row per simulated flight: which route it flew, whether and when it was first detected and by which
radar, its minutes in the airspace and in coverage, its transponder state, its sideways offset and, with
a response, its outcome. :meth:`sim.api.Run.to_pandas` gives the table of a run in this process;
:func:`sim.api.read_flights` reads a run's ``flights.csv`` with the same columns and types
(:data:`sim.results.FLIGHT_COLUMNS`: names, types, units). pandas is the ``pandas`` extra.

200 campaigns of 15 flights of the transponders-off scenario.
"""
import matplotlib.pyplot as plt

from sim.api import run

r = run("iraq_2012_transponder_off", campaigns=200)
df = r.to_pandas()
df.head()

# %%
# P(detect) by route, and who saw each flight first.
print(df.groupby("route")["detected"].mean().round(3).to_string())
print(df["first_radar"].value_counts().to_string())

# %%
# Could they be stopped? One outcome per flight (the codes are explained in :doc:`/response`).
print(df["outcome"].value_counts(normalize=True).round(3).to_string())

# %%
# Detection against the sideways offset from the route's centre line: flights that pass farther from
# Kirkuk's and Baghdad's primary radars are seen less often.
df["offset_km"] = (df["cross_track_m"] / 1000).round(-1)
by_offset = df.groupby(["route", "offset_km"])["detected"].agg(["mean", "size"]).reset_index()
fig, ax = plt.subplots(figsize=(6.5, 3.8))
for route, part in by_offset[by_offset["size"] >= 30].groupby("route"):
    ax.plot(part["offset_km"], part["mean"], marker="o", label=route)
ax.set_xlabel("sideways offset from the route's centre line [km], 10 km bins")
ax.set_ylabel("P(detect)")
ax.set_ylim(0, 1.02)
ax.legend(title="route")
ax.set_title("Transponders off: P(detect) against the sideways offset")
fig.tight_layout()
