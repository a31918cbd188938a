"""``airpicture compare``: the headline numbers of several scenarios side by side, each against a reference."""
import difflib
from pathlib import Path

import numpy as np

from sim.analysis import compare
from sim.analysis.metrics import (DEFAULT_METRIC, METRICS_HELP, differences_z, is_probability, metric_interval,
                                  metric_short_label, metric_value)
from sim.cli.common import (RAW, add_cache, add_campaigns, add_flights, add_force, add_out, add_quiet, add_seed,
                            add_set, cache_of, check_memory, check_out, epilog, fmt, long_work, what_if_clause,
                            what_if_text)
from sim.pipeline import load
from sim.products.export import staged_output, write_csv, write_sidecar
from sim.results import ASSUMPTIONS_NOTE, format_ci, format_p_ci
from sim.scenario import ScenarioError


EXAMPLES = """\
  airpicture compare iraq_2012_baseline iraq_2012_transponder_off iraq_2012_low_level
  airpicture compare iraq_2012_baseline iraq_2012_transponder_off --set run.seed=7
  airpicture compare iraq_2012_baseline iraq_2012_f16_balad --metric response.p_stopped --out out/c"""


def add_parser(sub):
    p = sub.add_parser("compare", help="headline numbers of several scenarios side by side",
                       description="Run several scenarios and print one table of their headline numbers "
                                   "(P(stopped) too when any has a [response]); --out writes compare.csv and "
                                   "compare.png (--metric of each scenario against the --reference one, "
                                   "differences beyond sampling noise flagged).", epilog=epilog(EXAMPLES),
                       formatter_class=RAW)
    p.add_argument("scenarios", nargs="+", help="scenario files or shipped scenarios' names")
    add_set(p, "override a value in every scenario (repeatable)")
    add_campaigns(p, "campaigns per scenario (default: each file's)")
    add_flights(p, "flights per campaign (default: each file's)")
    add_seed(p, "random seed (default: each file's)")
    add_out(p, "output folder for compare.csv")
    p.add_argument("--markdown", action="store_true",
                   help="print the table as Markdown (the README's results table: make readme-results)")
    p.add_argument("--metric", default=DEFAULT_METRIC, help=METRICS_HELP)
    p.add_argument("--reference", metavar="NAME", default=None,
                   help="the scenario the others are compared with: its name or file (default: the baseline, a "
                        "scenario whose name ends in 'baseline', when one is compared; else the first given)")
    add_quiet(p, "no table on stdout")
    add_cache(p)
    add_force(p)
    p.set_defaults(func=command)
    return p


def _default_reference(args, scenarios):
    """The scenario compared against when --reference is not given: the baseline when one is compared (its
    name or its file's stem ends in "baseline", e.g. iraq_2012_baseline), else the first given; and why."""
    for i, (path, sc) in enumerate(zip(args.scenarios, scenarios)):
        if sc.info.name.endswith("baseline") or Path(path).stem.endswith("baseline"):
            return i, "the baseline, by default"
    return 0, "the first given, by default"


def _reference_index(args, scenarios):
    """The scenario --reference names (its name, its file as given, or the file's stem); by default the
    baseline when one is compared, else the first (:func:`_default_reference`)."""
    if args.reference is None:
        return _default_reference(args, scenarios)[0]
    for i, (path, sc) in enumerate(zip(args.scenarios, scenarios)):
        if args.reference in (sc.info.name, path, Path(path).name, Path(path).stem):
            return i
    known = [sc.info.name for sc in scenarios]
    near = difflib.get_close_matches(args.reference, known + [Path(p).stem for p in args.scenarios], n=2)
    hint = f"did you mean {' or '.join(near)}?" if near else "give one of " + ", ".join(known)
    raise ScenarioError("--reference", None, f"no scenario {args.reference!r} among those compared ({hint})")


def _p_stopped_text(s):
    """P(stopped) with its 95% interval when the run has one; "-" for a scenario without a response."""
    if "response" not in s:
        return "-"
    ci = metric_interval(s, "response.p_stopped")
    return f"{s['response']['p_stopped']:.3f}" if ci is None else format_p_ci(s["response"]["p_stopped"], *ci)


def _metric_text(s, metric):
    ci = metric_interval(s, metric)
    value = metric_value(s, metric)
    if ci is not None and is_probability(metric):     # the decimals its interval needs
        return format_p_ci(value, *ci)
    return fmt(value).strip() + ("" if ci is None else f" [{format_ci(*ci)}]")


def command(args):
    from sim.products.brief import compare_figure   # matplotlib loads only to draw
    from sim.products.style import save_figure, use_style
    scenarios = [load(p, args.overrides) for p in args.scenarios]   # validate all before running any
    ref = _reference_index(args, scenarios)
    why = "" if args.reference is not None else _default_reference(args, scenarios)[1]
    ref_text = f"the reference{f'; {why}' if why else ''}"
    if args.out:
        check_out(Path(args.out))
    check_memory(args, scenarios)
    metric = args.metric
    rows = []
    watch, close_bar = long_work(sum((args.campaigns or sc.run.campaigns) * (args.flights or sc.run.flights)
                                      for sc in scenarios), args.quiet, f"{len(scenarios)} scenarios")
    try:
        summaries = [s for _sim, _result, s in compare(scenarios, campaigns=args.campaigns, flights=args.flights,
                                                       seed=args.seed, metric=metric, cache=cache_of(args),
                                                       on_flights=watch)]   # metric checked before runs
    finally:
        close_bar()
    stopped = any("response" in s for s in summaries)      # a P(stopped) column whenever any can be stopped
    other = metric not in ("p_detect", "response.p_stopped")  # a column of its own for any other metric
    what_if = what_if_text(scenarios[0].overrides)
    values = [metric_value(s, metric) for s in summaries]
    cis = [metric_interval(s, metric) for s in summaries]
    ci_rows = None if all(c is None for c in cis) else [c if c is not None else (np.nan, np.nan) for c in cis]
    for sc, s in zip(scenarios, summaries):
        d = s["detected_per_campaign"]
        r = s.get("response", {})
        st = metric_interval(s, "response.p_stopped") or ("", "")
        rows.append((sc.info.name, s["airspace"], s["p_detect"], *s["p_detect_ci95"], s["p_detect_in_airspace"],
                     d["mean"], d["p05"], d["p95"], s["flights_per_campaign"], s["minutes_in_coverage_mean"],
                     *((r.get("p_stopped", ""), *st) if stopped else ()),
                     *((metric_value(s, metric), *(metric_interval(s, metric) or ("", ""))) if other else ()),
                     what_if))
    header = ["scenario", "airspace", "p_detect", "ci95_low", "ci95_high", "p_detect_in_airspace", "detected_mean",
              "detected_p05", "detected_p95", "flights_per_campaign", "minutes_in_coverage_mean",
              *(("p_stopped", "p_stopped_ci95_low", "p_stopped_ci95_high") if stopped else ()),
              *((metric, f"{metric}_ci95_low", f"{metric}_ci95_high") if other else ()), "what_if"]
    names = [sc.info.name for sc in scenarios]
    z = differences_z(values, ci_rows, [s["flights_total"] for s in summaries], ref, is_probability(metric))
    label = metric_short_label(metric)
    if args.out:
        with staged_output(Path(args.out)) as stage:
            write_csv(stage / "compare.csv", header, rows)
            what = ("comparison of " + "; ".join(
                f"{s['scenario']} ({s['campaigns']:,} campaigns x {s['flights_per_campaign']} flights, seed {s['seed']})"
                for s in summaries) + f"; {metric} against {names[ref]} ({ref_text}){what_if_clause(scenarios[0].overrides)}")
            with use_style():
                fig, _ = compare_figure(names, values, ci_rows, [s["flights_total"] for s in summaries], what,
                                        reference=ref, metric=metric, reference_why=why)
                save_figure(fig, stage / "compare.png", title=f"Comparison of {metric}: " + ", ".join(names)
                            + (f" (what-if: {what_if})" if what_if else ""),
                            description=f"{what}. {ASSUMPTIONS_NOTE}")
            write_sidecar(stage / "README.txt", what,
                          "compare.csv  headline numbers, one row per scenario (P(stopped) when any has a "
                          "response; what_if: the --set overrides of every scenario)\n"
                          f"compare.png  {metric}{' with its 95% interval' if ci_rows else ''}, differences "
                          f"from {names[ref]} ({ref_text}) flagged\n")
    if args.markdown:
        extra = (" P(stopped) per flight [95% CI] |" if stopped else "") + (
            f" {label}{' [95% CI]' if ci_rows else ''} |" if other else "")
        print("| scenario | airspace | P(detect) per flight [95% CI] | detected per campaign, mean (90% band) |"
              + extra)
        print("| --- | --- | --- | --- |" + " --- |" * extra.count("|"))
        for path, sc, r, s in zip(args.scenarios, scenarios, rows, summaries):
            cells = (f" {_p_stopped_text(s)} |" if stopped else "") + (f" {_metric_text(s, metric)} |" if other else "")
            print(f"| `{Path(path).stem}`: {sc.info.title} | {r[1]} | {format_p_ci(r[2], r[3], r[4])} | "
                  f"{r[6]:.1f} of {r[9]} ({r[7]:.0f}-{r[8]:.0f}) |" + cells)
        if what_if:
            print(f"\nWhat-if, every scenario: {what_if}")
    elif not args.quiet:
        w = max(len(r[0]) for r in rows)
        texts = [(_p_stopped_text(s) if stopped else "", _metric_text(s, metric) if other else "") for s in summaries]
        ws = max([len("P(stopped) [95% CI]")] + [len(a) for a, _ in texts])
        head = f"{label}{' [95% CI]' if ci_rows else ''}"
        wm = max([len(head)] + [len(b) for _, b in texts])
        print(f"{'scenario':<{w}s}  airspace  P(detect) [95% CI]      in airspace  detected/campaign (p05-p95)"
              + (f"  {'P(stopped) [95% CI]':<{ws}s}" if stopped else "") + (f"  {head}" if other else ""))
        for r, (a, b) in zip(rows, texts):
            line = (f"{r[0]:<{w}s}  {r[1]:<8s}  {format_p_ci(r[2], r[3], r[4]):<19s}   {r[5]:.3f}        "
                    f"{f'{r[6]:.1f} of {r[9]} ({r[7]:.0f}-{r[8]:.0f})':<27s}")
            print((line + (f"  {a:<{ws}s}" if stopped else "") + (f"  {b:<{wm}s}" if other else "")).rstrip())
        flagged = [f"{names[i]} {values[i] - values[ref]:+.3f} (z {z[i]:.0f})" for i in np.flatnonzero(z > 3)]
        tested = ci_rows is not None or is_probability(metric)
        print(f"reference: {names[ref]}{f' ({why})' if why else ''}; {metric} differs beyond sampling noise (z > 3) in: "
              + (", ".join(flagged) if flagged else "none") if tested else
              f"reference: {names[ref]}{f' ({why})' if why else ''}; {metric} has no interval: differences not tested")
        if what_if:
            print(f"what-if, every scenario: {what_if}")
    return 0
