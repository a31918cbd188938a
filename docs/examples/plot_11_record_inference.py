"""
Unwilling or unable: what the public record says
================================================

The shipped scenario ``iraq_2012_record`` is the transponders-on baseline with what Iraq did about the
flights (its ``[[record]]``): from July 2012 to February 2013, two flights ordered to land at Baghdad
and searched, of flights "almost daily"; in the month after a US Secretary of State's visit in March
2013, five searched. :func:`sim.api.infer` confronts the simulator with it: each capability point is a
what-if run at will 1 (its unknown capability input, the decision delay, drawn from its declared range),
and the state's will, one per period, follows from the counts. The command line is ``airpicture infer
iraq_2012_record``. 16 points of 300 flights here, so the intervals carry more Monte Carlo noise than the
command line's 64 points of 2,010 flights; :doc:`/infer` says the method, what it is checked against and
what it cannot tell apart.
"""
import matplotlib.pyplot as plt

from sim.api import infer
from sim.products.infer import draw_could_did
from sim.products.style import use_style

result = infer("iraq_2012_record", samples=16, campaigns=20)
print(result.headline)

# %%
# Per period, which of "unwilling" and "unable" the record supports and how strongly (the words of Kass
# and Raftery for the Bayes factor), will's posterior mean and 90% interval, and P(will < 0.5); the
# capability if willing is shared by the periods (the same radars and chain of command).
for p in result.summary["periods"]:
    w = p["will"]
    print(f"{p['name']:20s} {p['verdict']} ({p['verdict_strength']}): will {w['mean']:.3f} "
          f"[{w['ci90'][0]:.3f}-{w['ci90'][1]:.3f}], P(will < 0.5) {w['p_below_half']:.3f}")
could = result.summary["capability"]["p_could_stop_if_willing"]
print(f"could stop if willing: {could['mean']:.3f} [{could['ci90'][0]:.3f}-{could['ci90'][1]:.3f}]")

# %%
# The commander's chart, as ``infer.png`` draws it: per period the share of the flights the state could
# have stopped had it been willing, against the share it did stop, each with its 90% interval. The gap
# is will.
with use_style():
    fig, ax = plt.subplots(figsize=(8, 3.4))
    draw_could_did(ax, result.summary)
    ax.set_title("Could stop if willing, against did stop: the gap is will")
    fig.subplots_adjust(left=0.27, right=0.74, bottom=0.2, top=0.88)

# %%
# Will's posterior per period against its uniform prior (``result.will_density`` on ``result.will_grid``:
# exact, from the mixture over the capability points). The two periods share the capability: April
# 2013 shows what Iraq could do when it chose to, which the eight months before, two of about 180
# flights, fit only with a low will.
with use_style():
    fig, ax = plt.subplots(figsize=(7, 3))
    for j, p in enumerate(result.periods):
        ax.plot(result.will_grid, result.will_density[j], label=p.name)
    lo, hi = result.will_range
    ax.plot([lo, hi], [1.0 / (hi - lo)] * 2, color="grey", linestyle="--", label="prior")
    ax.set_xlabel("will: the share of the flights it could act on that the state acts on")
    ax.set_ylabel("posterior density")
    ax.set_xlim(lo, hi)
    ax.set_ylim(0, None)
    ax.legend()
    fig.tight_layout()

# %%
# The files of ``airpicture infer --out DIR`` (the chart, prior against posterior, the draws as ArviZ
# InferenceData, infer.json) come from :func:`sim.api.write_infer`; ``airpicture brief --record`` puts
# the answer on brief.pdf's second page, and the planner's page (``airpicture serve``) answers it on
# its tab "Unwilling or unable".
