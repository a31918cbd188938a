"""
The radar model against published values
========================================

The per-scan probability of detection of :mod:`sim.radar` (a square-law detector, one look, Swerling 0-4
targets) against values the test suite checks (``tests/test_radar.py``): Richards' closed form for
Swerling 1 (*Fundamentals of Radar Signal Processing*, ch. 6) and the exact Marcum Q value for
Swerling 0, at a false-alarm probability of 1e-6. One look: Swerling 2 equals 1 and 4 equals 3
(Swerling 1960).
"""
import matplotlib.pyplot as plt
import numpy as np

from sim.radar import detection_probability, required_snr_db

PFA = 1e-6
published = [   # (Swerling case, Pd, required SNR [dB], source), as in tests/test_radar.py
    (1, 0.9, 21.14, "Richards, closed form"),
    (1, 0.5, 12.77, "Richards, closed form"),
    (0, 0.9, 13.183490056794499, "exact Marcum Q (sdr.min_snr)"),
]
for case, pd, snr_db, source in published:
    print(f"Swerling {case}, Pd {pd}: {required_snr_db(pd, PFA, case):.4f} dB; published {snr_db:.4f} dB "
          f"({source})")
print(f"Swerling 1 at 15 dB: Pd {detection_probability(15.0, PFA, 1):.4f}; Richards 0.655")

snr_db = np.linspace(0, 30, 301)
fig, ax = plt.subplots(figsize=(6.5, 4.2))
for case, style in [(0, "-"), (1, "--"), (3, ":")]:
    ax.plot(snr_db, detection_probability(snr_db, PFA, case), style, label=f"Swerling {case}")
ax.plot([s for _, _, s, _ in published], [p for _, p, _, _ in published], "ko", label="published values")
ax.set_xlabel("signal-to-noise ratio per look [dB]")
ax.set_ylabel("P(detect) per scan")
ax.set_title("Single-look detection probability, Pfa 1e-6")
ax.legend(loc="lower right")
ax.grid(alpha=0.3)
fig.tight_layout()

# %%
# In a scenario a radar's Pd comes either as a constant inside coverage or from a reference target
# (``reference = {range_nm = 55, rcs_m2 = 1.0, pd = 0.8}``): the radar equation scales the reference's
# signal-to-noise ratio by the aircraft's cross-section and the fourth power of range, so doubling the
# range costs 12.04 dB (:func:`sim.radar.pd_from_reference`).
from geo.units import NM_M
from sim.radar import pd_from_reference

range_m = np.linspace(5_000, 60 * NM_M, 200)         # out to the ASR-11's 60 NM instrumented range
fig, ax = plt.subplots(figsize=(6.5, 4.2))
for rcs_m2 in (1.0, 10.0, 100.0):
    pd = pd_from_reference(range_m, rcs_m2, 55 * NM_M, 1.0, 0.8, PFA, 1)
    ax.plot(range_m / 1000, pd, label=f"{rcs_m2:g} m²")
ax.axvline(55 * NM_M / 1000, color="grey", lw=0.8)
ax.annotate("reference: 0.8 on 1 m² at 55 NM", (55 * NM_M / 1000, 0.8), xytext=(-150, -40),
            textcoords="offset points", arrowprops=dict(arrowstyle="->"), fontsize=8)
ax.set_xlabel("slant range [km]")
ax.set_ylabel("P(detect) per scan")
ax.set_ylim(0, 1.02)
ax.legend(title="cross-section", loc="lower left")
ax.set_title("Kirkuk PSR's reference, Swerling 1, Pfa 1e-6")
fig.tight_layout()
