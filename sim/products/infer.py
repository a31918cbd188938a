"""The files of ``airpicture infer``: the answer chart, prior against posterior, the posterior as NetCDF, JSON.

A product draws the result it is given (:class:`sim.analysis.infer.InferResult`); it runs nothing.

- ``infer.png``: per period, the share of flights the state could have stopped had it been willing,
  against the share it did stop, each with its 90% interval: the gap is will;
- ``prior_posterior.png``: each unknown's prior against its posterior (will per period, each capability
  input);
- ``posterior.nc``: the draws as ArviZ InferenceData (posterior, prior, posterior predictive, observed
  counts) in NetCDF-4, for ``arviz.from_netcdf``;
- ``infer.json``: the numbers (``docs/infer.schema.json``);
- ``README.txt``: what each file is.
"""
import textwrap
import warnings

import numpy as np

from sim.products.export import write_json, write_sidecar
from sim.products.style import (COLORS, FONT_SIZE, PALETTE, figure_footnote, figure_heading, new_figure,
                                save_figure, use_style)
from sim.results import ASSUMPTIONS_NOTE

__all__ = ["write_infer_files", "draw_could_did", "draw_prior_posterior", "INFER_FILES", "infer_json", "inference_data"]

#: The files an infer output folder holds.
INFER_FILES = ("README.txt", "infer.json", "infer.png", "prior_posterior.png", "posterior.nc")
_COULD = PALETTE["blue"]
_DID = PALETTE["vermillion"]


def _arviz():
    """The ``arviz`` module, imported quietly (0.2x announces its refactor with a FutureWarning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az
    return az


def inference_data(result):
    """An infer result's draws as ArviZ InferenceData: posterior, prior, posterior predictive and observed
    counts, one chain of draws (importance resampling: no chains to compare, so no R-hat), ``period`` a
    dimension of will, the flights and the share stopped."""
    az = _arviz()
    names = [p.name for p in result.periods]
    post, prior = result.draws, result.prior_draws
    cap_names = {c.key: _var_name(c.key) for c in result.capability}

    def one(d):
        out = {"will": d["will"][None], "p_could_act_if_willing": d["could_act"][None],
               "p_could_stop_if_willing": d["could_stop"][None], "p_detect": d["p_detect"][None],
               "p_held_in_time": d["p_held_in_time"][None]}
        for key, name in cap_names.items():
            out[name] = np.asarray(d[key], dtype=float)[None]
        return out

    posterior = {**one(post), "flights": post["flights"][None],
                 "p_did_stop": (post["will"] * post["could_stop"][:, None])[None]}
    observed, predictive = {}, {}
    for j, p in enumerate(result.periods):
        lead = p.observed("ordered_to_land") or p.landed
        observed[f"{lead.kind}_{j}"] = np.array([lead.count])
        predictive[f"{lead.kind}_{j}"] = result.predictive["lead"][None, :, j]
        if p.observed("ordered_to_land") is not None and p.landed is not None:
            observed[f"{p.landed.kind}_{j}"] = np.array([p.landed.count])
            predictive[f"{p.landed.kind}_{j}"] = result.predictive["landed"][None, :, j]
    dims = {"will": ["period"], "flights": ["period"], "p_did_stop": ["period"]}
    attrs = {"created_at": "not recorded (byte-reproducible)", "scenario": result.scenario.info.name,
             "seed": result.seed, "method": "importance sampling of a scrambled Sobol prior sample of the "
                                            "capability inputs; will analytic (docs/infer.md)",
             "note": ASSUMPTIONS_NOTE}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = az.from_dict(posterior=posterior, prior=one(prior), posterior_predictive=predictive,
                             observed_data=observed, coords={"period": names}, dims=dims, attrs=dict(attrs))
    for group in idata.groups():          # every group: no creation time in the file (byte-reproducible)
        getattr(idata, group).attrs.update(attrs)   # (from_dict takes created_at out of the dict it is given)
    return idata


def _var_name(key):
    """A key as a NetCDF variable name (``response.decision_delay_min`` -> ``response_decision_delay_min``)."""
    return "".join(c if c.isalnum() or c == "_" else "_" for c in key).strip("_")


def _interval(ax, y, stats, color, marker, label):
    m, (a, b) = stats["mean"], stats["ci90"]
    ax.plot([a, b], [y, y], color=color, linewidth=2.4, solid_capstyle="butt", zorder=3)
    ax.plot([m], [y], linestyle="none", marker=marker, markersize=7, color=color, markeredgecolor="black",
            markeredgewidth=0.6, zorder=4, label=label)
    return m, a, b


def draw_could_did(ax, summary):
    """The commander's chart on ``ax``: per period (top to bottom) "could stop if willing" and "did stop"
    per flight, with their 90% intervals, and the will between them in words. Returns the artists' axes."""
    could = summary["capability"]["p_could_stop_if_willing"]
    periods = summary["periods"]
    n = len(periods)
    for j, p in enumerate(periods):
        y0 = n - 1 - j
        _interval(ax, y0 + 0.17, could, _COULD, "o", "could stop if willing" if j == 0 else None)
        _interval(ax, y0 - 0.17, p["p_did_stop"], _DID, "s", "did stop" if j == 0 else None)
        w = p["will"]
        ax.annotate("", xy=(p["p_did_stop"]["mean"], y0 - 0.05), xytext=(could["mean"], y0 + 0.05),
                    arrowprops=dict(arrowstyle="->", color=COLORS["muted"], linewidth=0.8), zorder=2)
        ax.text(1.02, y0 + 0.12, f"will {w['mean']:.2f} [{w['ci90'][0]:.2f}-{w['ci90'][1]:.2f}]",
                transform=ax.get_yaxis_transform(), va="center", fontsize=FONT_SIZE["base"], fontweight="bold")
        strength = p["verdict_strength"] + " " if p.get("verdict_strength") else ""
        ax.text(1.02, y0 - 0.16, f"{p['verdict']} ({strength.strip() or 'no strength'})",
                transform=ax.get_yaxis_transform(), va="center", fontsize=FONT_SIZE["small"])
    ax.set_yticks(range(n))
    ax.set_yticklabels(["\n".join(textwrap.wrap(f"{p['name']}: " + ", ".join(
        f"{v} {k.replace('_', ' ')}" for k, v in p["observed"].items()), 26)) for p in reversed(periods)],
        fontsize=FONT_SIZE["small"] + 0.5)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlabel(f"share of the flights stopped (posterior mean, {summary['credible']:.0%} interval)")
    ax.grid(axis="x")
    ax.legend(loc="lower right", fontsize=FONT_SIZE["small"])
    return ax


def draw_prior_posterior(axes, result):
    """Prior against posterior of each unknown, one per ``axes``: will per period (the exact densities of
    :attr:`~sim.analysis.infer.InferResult.will_density`), then each capability input (its points weighted
    by their posterior weights)."""
    lo, hi = result.will_range
    k = 0
    for j, p in enumerate(result.periods):
        ax = axes[k]
        k += 1
        ax.fill_between(result.will_grid, result.will_density[j], color=_DID, alpha=0.35, linewidth=0)
        ax.plot(result.will_grid, result.will_density[j], color=_DID, linewidth=1.2, label="posterior")
        ax.plot([lo, hi], [1.0 / (hi - lo)] * 2, color=COLORS["muted"], linestyle=(0, (4, 2)), linewidth=1.0,
                label="prior")
        ax.set_title(f"will, {p.name}", fontsize=FONT_SIZE["base"])
        ax.set_xlim(lo, hi)
        ax.set_ylim(0, None)
        ax.set_xlabel("will (share of the flights it could act on that it acts on)", fontsize=FONT_SIZE["small"])
    for i, c in enumerate(result.capability):
        ax = axes[k]
        k += 1
        bins = np.linspace(c.low, c.high + (1 if c.integer else 0), 21)
        v = result.points.values[:, i]
        ax.hist(v, bins=bins, weights=result.weights, density=True, color=_COULD, alpha=0.45, label="posterior")
        ax.plot([c.low, c.high], [1.0 / (bins[-1] - bins[0])] * 2, color=COLORS["muted"], linestyle=(0, (4, 2)),
                linewidth=1.0, label="prior")
        ax.set_title(c.key, fontsize=FONT_SIZE["base"])
        ax.set_xlabel(c.key.rsplit(".", 1)[-1], fontsize=FONT_SIZE["small"])
    axes[0].legend(fontsize=FONT_SIZE["small"])
    for ax in axes:
        ax.set_yticks([])
    return axes


def infer_json(result):
    """infer.json: the summary, the files and the note."""
    return {**result.summary, "files": list(INFER_FILES), "note": ASSUMPTIONS_NOTE}


def _run_text(result):
    s = result.summary
    what_if = f"; what-if: {', '.join(s['overrides'])}" if s["overrides"] else ""
    return (f"the record of scenario {s['scenario']} ({s['title']}), {s['samples']} capability points x "
            f"{s['flights_per_sample']:,} flights each, seed {s['seed']}{what_if}")


def write_infer_files(stage, result):
    """Write the files of an infer result into ``stage`` (a staging folder); returns infer.json as a dict."""
    summary = infer_json(result)
    run_text = _run_text(result)
    title = f"Unwilling or unable: {result.scenario.info.title}"
    with use_style():
        n = len(result.periods)
        fig = new_figure("chart", figsize=(8.0, 1.9 + 1.25 * n))
        ax = fig.add_axes([0.26, 0.22, 0.5, 0.58 if n > 1 else 0.45])
        draw_could_did(ax, summary)
        figure_heading(fig, "Could stop if willing, against did stop: the gap is will",
                       "\n".join(textwrap.wrap(f"{result.scenario.info.title}; per flight, "
                                               f"{summary['credible']:.0%} intervals", 110)))
        figure_footnote(fig, f"{run_text}. Flights: " + "; ".join(f"{p['name']}: {p['flights_text']}"
                                                                   for p in summary["periods"])
                        + f". {ASSUMPTIONS_NOTE}", 160)
        save_figure(fig, stage / "infer.png", dpi=160, title=title, description=f"{run_text}. {ASSUMPTIONS_NOTE}")
        k = n + len(result.capability)
        fig = new_figure("chart", figsize=(3.0 * k + 0.6, 3.0))
        axes = [fig.add_subplot(1, k, i + 1) for i in range(k)]
        draw_prior_posterior(axes, result)
        fig.subplots_adjust(left=0.04, right=0.98, top=0.74, bottom=0.2, wspace=0.25)
        figure_heading(fig, "Prior against posterior of each unknown", "\n".join(textwrap.wrap(run_text, 150)))
        save_figure(fig, stage / "prior_posterior.png", dpi=130, title=title,
                    description=f"{run_text}. {ASSUMPTIONS_NOTE}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inference_data(result).to_netcdf(str(stage / "posterior.nc"), engine="h5netcdf")
    write_json(stage / "infer.json", summary)
    write_sidecar(stage / "README.txt", run_text,
                  "infer.png           per period: the share of the flights the state could have stopped had it\n"
                  "                    been willing, against the share it did stop (90% intervals): the gap is will\n"
                  "prior_posterior.png each unknown's prior (dashed) against its posterior\n"
                  "posterior.nc        the posterior draws as ArviZ InferenceData, NetCDF-4 (arviz.from_netcdf):\n"
                  "                    posterior, prior, posterior_predictive, observed_data; dimension period\n"
                  "infer.json          the numbers (docs/infer.schema.json): per period will (mean, 90% interval,\n"
                  "                    HDI, ESS), P(will < 0.5), the capability if willing, the predictive check,\n"
                  "                    the change of will between periods, the diagnostics; the method: docs/infer.md\n")
    return summary
