"""``airpicture sweep``: a metric as one scenario value varies, every value on the same draws."""
from pathlib import Path

from sim.analysis import sweep
from sim.analysis.metrics import DEFAULT_METRIC, METRICS_HELP, is_probability, metric_short_label
from sim.cli.common import (RAW, add_common, add_mc, add_out, cache_of, check_memory, check_out, engine_for, epilog,
                            fmt, long_work, what_if_clause, what_if_text)
from sim.pipeline import load
from sim.products.export import staged_output, write_csv, write_json, write_sidecar
from sim.results import ASSUMPTIONS_NOTE, format_ci, format_p
from sim.scenario import ScenarioError, override_text, parse_override_value, with_overrides


EXAMPLES = """\
  airpicture sweep iraq_2012_transponder_off --key "radar[Kirkuk PSR].availability" --values 0,0.5,1
  airpicture sweep iraq_2012_transponder_off --key detection.mean_outage_days --values 1,5,20 --out out/s
  airpicture sweep iraq_2012_f16_balad --key "interceptor[F-16IQ Balad].ready_min" --values 10,14,16,20 \\
      --metric response.p_stopped"""


def add_parser(sub):
    p = sub.add_parser("sweep", help="P(detect), P(stopped) or any metric as one scenario value varies (same seed)",
                       description="Run the scenario once per value of --key, each with the scenario's "
                                   "campaigns (or --campaigns) and the same seed, and print/write a table of "
                                   "--metric with its 95% interval where summary.json has one (sweep.csv, "
                                   "sweep.json, sweep.png). Each value's numbers are those of "
                                   "'airpicture run --set KEY=VALUE'.", epilog=epilog(EXAMPLES),
                       formatter_class=RAW)
    add_common(p)
    add_mc(p)
    p.add_argument("--key", required=True, help="override path, e.g. aircraft.cruise_altitude_m")
    p.add_argument("--values", required=True, help="comma-separated values, e.g. 300,1000,3000,10000")
    p.add_argument("--metric", default=DEFAULT_METRIC, help=METRICS_HELP)
    add_out(p, "output folder (default: print only)")
    p.set_defaults(func=command)
    return p


def _parse_values(text):
    return [parse_override_value(v.strip()) for v in text.split(",") if v.strip()]


def _ci_text(ci, value=None):
    """A 95% interval in a table ("-" when none); ``value``: the probability it belongs to (its decimals)."""
    return "-" if ci is None else format_ci(*ci, p=value)


def _value_text(value, ci, probability):
    """A metric's value in a table: a probability with the decimals its interval needs, else :func:`_fmt`."""
    return format_p(value, *ci) if probability and ci is not None and value is not None else fmt(value)


def command(args):
    from sim.products.brief import sweep_figure     # matplotlib (0.3 s to import) loads only to draw
    from sim.products.style import save_figure, use_style
    scenario = load(args.scenario, args.overrides)
    values = _parse_values(args.values)
    if not values:
        raise ScenarioError("--values", None, "give at least one value")
    if args.out:
        check_out(Path(args.out))
    cost = check_memory(args, [with_overrides(scenario, [override_text(args.key, v)]) for v in values],
                         exact=args.exact)
    metric = args.metric
    # every value validated first, the metric on the first value's prepared run (MetricError: exit 2)
    watch, close_bar = long_work(len(values) * (args.campaigns or scenario.run.campaigns)
                                  * (args.flights or scenario.run.flights), args.quiet, f"{len(values)} runs")
    try:
        with engine_for(args, (args.campaigns or scenario.run.campaigns) * (args.flights or scenario.run.flights),
                     cost) as engine:
            points = sweep(scenario, args.key, values, campaigns=args.campaigns, flights=args.flights,
                           seed=args.seed, chunk_campaigns=args.chunk, engine=engine, exact=args.exact,
                           metric=metric, cache=cache_of(args), on_flights=watch)
    finally:
        close_bar()
    campaigns = args.campaigns or scenario.run.campaigns
    what_if = what_if_text(scenario.overrides)
    run_text = (f"sweep of {args.key} in scenario {scenario.info.name} ({scenario.info.title}), seed "
                f"{args.seed if args.seed is not None else scenario.run.seed}, {campaigns:,} campaigns x "
                f"{args.flights or scenario.run.flights} flights per value (the same draws for every value)"
                f"{what_if_clause(scenario.overrides)}")
    label = metric_short_label(metric)
    with_ci = all(p["metric_ci95"] is not None for p in points)
    if args.out:
        with staged_output(Path(args.out)) as stage:
            write_json(stage / "sweep.json", {"scenario": scenario.info.name, "title": scenario.info.title,
                                              "overrides": list(scenario.overrides), "run": run_text,
                                              "note": ASSUMPTIONS_NOTE, "key": args.key, "metric": metric,
                                              "points": points})
            with use_style():
                title = f"{label} against {args.key} ({scenario.info.name})"     # the caption names it too
                fig, _ = sweep_figure(args.key, points, title if len(title) <= 72 else f"{label} against {args.key}",
                                      run_text)
                save_figure(fig, stage / "sweep.png", title=f"Sweep of {args.key}, {metric}: {scenario.info.title}"
                            + (f" (what-if: {what_if})" if what_if else ""),
                            description=f"{run_text}. {ASSUMPTIONS_NOTE}")
            write_sidecar(stage / "README.txt", run_text,
                          f"sweep.csv   {metric}{' and its 95% interval' if with_ci else ''} per value (and "
                          "P(detect)); what_if: the --set overrides of every row\n"
                          "sweep.json  the same, with the run and the note\n"
                          "sweep.png   the same as a chart\n")
            extra = ["p_detect"] if metric != "p_detect" else []
            write_csv(stage / "sweep.csv", [args.key, metric, "ci95_low", "ci95_high", *extra,
                                            "detected_per_campaign_mean", "what_if"],
                      [(p["value"], p["metric_value"], *(p["metric_ci95"] or ("", "")),
                        *(p[k] for k in extra), p["detected_per_campaign_mean"], what_if) for p in points])
    if not args.quiet:
        print(f"{scenario.info.title}: sweep of {args.key} ({campaigns:,} campaigns per value, same seed)")
        if what_if:
            print(f"  what-if: {what_if}")
        # the metric (its 95% CI when summary.json has one), then P(detect) and detected/campaign unless it is one
        w, wk = max(len(label), 9), max(len(args.key), 30)
        any_ci = any(p["metric_ci95"] is not None for p in points)
        prob = is_probability(metric)
        cols = [(label, w, lambda p: _value_text(p["metric_value"], p["metric_ci95"], prob))]
        cols += [("95% CI", 14, lambda p: _ci_text(p["metric_ci95"], p["metric_value"] if prob else None))] \
            if any_ci else []
        cols += [("P(detect)", 9, lambda p: f"{p['p_detect']:.3f}")] if metric != "p_detect" else []
        cols += [("detected/campaign", 0, lambda p: f"{p['detected_per_campaign_mean']:.2f}")] \
            if metric != "detected_per_campaign.mean" else []
        print((f"  {args.key:>{wk}s}" + "".join(f"  {h:<{cw}s}" for h, cw, _ in cols)).rstrip())
        for p in points:
            print((f"  {str(p['value']):>{wk}s}" + "".join(f"  {f(p):<{cw}s}" for _, cw, f in cols)).rstrip())
    return 0
