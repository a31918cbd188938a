"""``airpicture sensitivity``: which assumption matters, by low/high runs of every declared uncertain input on
the same draws, ranked by their swing."""
from pathlib import Path

from sim.analysis import DEFAULT_SENSITIVITY_CAMPAIGNS, sensitivity_runs
from sim.analysis.metrics import DEFAULT_METRIC, METRICS_HELP, is_probability
from sim.cli.common import (RAW, add_campaigns, add_common, add_out, add_seed, cache_of, check_memory, check_out,
                            epilog, fmt, long_work, what_if_clause, what_if_text)
from sim.pipeline import load
from sim.products.export import staged_output, write_csv, write_sidecar
from sim.results import ASSUMPTIONS_NOTE, format_p_ci
from sim.scenario import ScenarioError, uncertainty_variants


EXAMPLES = """\
  airpicture sensitivity iraq_2012_transponder_off
  airpicture sensitivity iraq_2012_low_level --metric detected_per_campaign.mean --out out/sens
  airpicture sensitivity iraq_2012_f16_balad --metric response.p_stopped"""


def add_parser(sub):
    p = sub.add_parser("sensitivity", help="which assumption matters: low/high runs of every declared uncertain input",
                       description="One-at-a-time low/high runs of every input the scenario declares in "
                                   "[uncertainty], all with the same seed (common random numbers: a swing is the "
                                   "input's effect, not noise), ranked by the swing of --metric. Writes "
                                   "sensitivity.csv and a tornado chart (PNG, PDF) with --out. The base is the "
                                   "scenario as it is, on its own campaigns: what airpicture run reports. Default "
                                   "size: 200 campaigns per low/high run, each bar the base plus the input's effect "
                                   "against a base run on the same draws.", epilog=epilog(EXAMPLES),
                       formatter_class=RAW)
    add_common(p)
    p.add_argument("--metric", default=DEFAULT_METRIC, help=METRICS_HELP)
    add_campaigns(p, "campaigns of every run, the base's too (default: the base as airpicture run gives it, on the "
                     "scenario's campaigns; the low/high runs on 200, at most as many, with a base run on their "
                     "own draws)")
    add_seed(p, "random seed (default: the scenario's run.seed)")
    add_out(p, "output folder (default: print only)")
    p.set_defaults(func=command)
    return p


def command(args):
    from sim.pipeline import tornado_runs_text
    from sim.products.brief import tornado_figure   # matplotlib loads only to draw
    from sim.products.style import save_figure, use_style
    scenario = load(args.scenario, args.overrides)
    if not scenario.uncertainty:
        raise ScenarioError(args.scenario, "uncertainty", 'the scenario declares no uncertain inputs: add '
                                                          '[uncertainty] "KEY" = [low, high]')
    if args.out:
        check_out(Path(args.out))
    check_memory(args, [scenario] + [v for row in uncertainty_variants(scenario) for v in row[3:]])
    # the base is what `airpicture run` reports for the same campaigns (the scenario's, or --campaigns); the
    # low/high runs use --campaigns, default 200 (at most the base's), with a base run on their own draws
    base_campaigns = args.campaigns or scenario.run.campaigns
    campaigns = args.campaigns or min(DEFAULT_SENSITIVITY_CAMPAIGNS, base_campaigns)
    n_runs = 2 * len(scenario.uncertainty) + 1
    flights = scenario.run.flights
    total = n_runs * campaigns * flights + (base_campaigns * flights if base_campaigns != campaigns else 0)
    watch, close_bar = long_work(total, args.quiet, f"{n_runs + (base_campaigns != campaigns)} runs")
    try:     # the metric is checked before the first run (MetricError: exit 2)
        runs = sensitivity_runs(scenario, (args.metric,), campaigns=campaigns, seed=args.seed, cache=cache_of(args),
                                on_flights=watch, base_campaigns=base_campaigns)
    finally:
        close_bar()
    m = args.metric
    base, rows, base_ci = runs.base[m], runs.rows[m], runs.base_ci95[m]
    seed = args.seed if args.seed is not None else scenario.run.seed
    what_if = what_if_text(scenario.overrides)
    same = "" if base_campaigns == campaigns else f" (the base: {base_campaigns:,} campaigns, as airpicture run)"
    run_text = (f"sensitivity of {m} in scenario {scenario.info.name} ({scenario.info.title}), seed {seed}, "
                f"{campaigns:,} campaigns x {flights} flights per low/high run{same}, the same draws in every run"
                f"{what_if_clause(scenario.overrides)}")
    if args.out:
        with staged_output(Path(args.out)) as stage:
            write_csv(stage / "sensitivity.csv",
                      ["key", "value", "low", "high", f"{m}_low", f"{m}_high", "swing", f"{m}_base",
                       f"{m}_base_ci95_low", f"{m}_base_ci95_high", "base_campaigns", f"{m}_base_same_draws",
                       "campaigns_per_run", "effect_low", "effect_high", "what_if"],
                      [(r["key"], "" if r["value"] is None else r["value"], r["low"], r["high"], r["metric_low"],
                        r["metric_high"], r["swing"], base, *(base_ci or ("", "")), base_campaigns,
                        runs.same_draws_base[m], campaigns, r["effect_low"], r["effect_high"], what_if) for r in rows])
            with use_style():
                fig, _ = tornado_figure(base, rows, m, f"Which assumption matters ({scenario.info.name})", run_text,
                                        base_ci95=base_ci, runs_text=tornado_runs_text(runs, m))
                for name in ("tornado.png", "tornado.pdf"):
                    save_figure(fig, stage / name, title=f"Sensitivity: {scenario.info.title}"
                                + (f" (what-if: {what_if})" if what_if else ""),
                                description=f"{run_text}. {ASSUMPTIONS_NOTE}")
            write_sidecar(stage / "README.txt", run_text,
                          "sensitivity.csv  the metric at each input's low and high value, ranked by swing (value: "
                          "the scenario's own;\n"
                          f"                 base: the scenario as it is, {base_campaigns:,} campaigns as airpicture "
                          "run, with its 95% interval;\n"
                          "                 effect_low/high: each run minus the base run on the low/high runs' "
                          "own draws,\n"
                          "                 base_same_draws; what_if: the --set overrides of every run)\n"
                          "tornado.png/.pdf the same as a chart: each bar the base plus the input's effect\n")
    if not args.quiet:
        base_text = format_p_ci(base, *base_ci) if base_ci is not None and is_probability(m) else fmt(base).strip()
        print(f"{scenario.info.title}: sensitivity of {m} (base {base_text}, {base_campaigns:,} campaigns as "
              f"airpicture run; {campaigns:,} campaigns per low/high run, same seed"
              + (f", their own base {fmt(runs.same_draws_base[m]).strip()})" if base_campaigns != campaigns else ")"))
        if what_if:
            print(f"  what-if: {what_if}")
        w = max(len(r["key"]) for r in rows)
        print(f"  {'input':<{w}s}  {'low':>8s}  {'high':>8s}  {'at low':>8s}  {'at high':>8s}  {'swing':>8s}")
        for r in rows:
            print(f"  {r['key']:<{w}s}  {str(r['low']):>8s}  {str(r['high']):>8s}  {fmt(r['metric_low'], 8)}  "
                  f"{fmt(r['metric_high'], 8)}  {r['swing']:+8.3f}")
    return 0
