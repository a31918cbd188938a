"""``airpicture infer``: unwilling or unable, the scenario's public record against the simulator (the inference
loads only when the command runs)."""
from pathlib import Path

from sim.cli.common import (RAW, add_campaigns, add_common, add_flights, add_out, add_seed, cache_of, check_memory,
                            check_out, epilog, int_up_to, positive_int, progress, what_if_text)
from sim.pipeline import load
from sim.products.export import staged_output


EXAMPLES = """\
  airpicture infer iraq_2012_record
  airpicture infer iraq_2012_record --samples 256 --out out/record
  airpicture infer iraq_2012_record --set response.order_to_land.compliance=1"""


def add_parser(sub):
    p = sub.add_parser("infer", help="unwilling or unable: will and capability inferred from the scenario's record",
                       description="Confront the simulator with the scenario's public record ([[record]]): the "
                                   "posterior of the state's will (per period) and of every declared [uncertainty] "
                                   "input (a uniform prior on its range; response.will's range is will's prior), "
                                   "from a scrambled Sobol sample of the capability inputs, each a what-if run at "
                                   "will 1, with will analytic and the number of flights summed over its range. "
                                   "Prints, per period, which of 'unable' and 'unwilling' the record supports and "
                                   "how strongly; writes infer.png, prior_posterior.png, posterior.nc (ArviZ), "
                                   "infer.json and README.txt into --out. Method: docs/infer.md.",
                       epilog=epilog(EXAMPLES), formatter_class=RAW)
    add_common(p)
    p.add_argument("--samples", type=positive_int, default=None, metavar="N",
                   help="capability points, a power of two (default 64 per capability input, rounded up to a power "
                        "of two; one without capability inputs)")
    add_campaigns(p, "campaigns simulated per point (default: about 2,000 flights)")
    add_flights(p, "flights per campaign (default: scenario's)")
    add_seed(p, "random seed (default: scenario's run.seed)")
    p.add_argument("--draws", type=int_up_to(1_000_000, "--draws"), default=None, metavar="N",
                   help="posterior draws kept (default 4,000)")
    add_out(p, "output folder (default: out/SCENARIO_NAME-infer)")
    p.set_defaults(func=command)
    return p


def command(args):
    from sim.analysis.infer import default_samples, infer, unknowns     # scipy.stats, ArviZ load only when asked
    from sim.products.infer import write_infer_files

    scenario = load(args.scenario, args.overrides)
    out = Path(args.out) if args.out else Path("out") / f"{scenario.info.name}-infer"
    check_out(out)
    check_memory(args, [scenario])
    update, close_bar = progress(args.samples or default_samples(len(unknowns(scenario)[1])), args.quiet,
                                  unit="point", desc="capability points")
    try:
        result = infer(scenario, samples=args.samples, campaigns=args.campaigns, flights=args.flights,
                       seed=args.seed, draws=args.draws, cache=cache_of(args), progress=update)
    finally:
        close_bar()
    with staged_output(out) as stage:
        write_infer_files(stage, result)
    if not args.quiet:
        s = result.summary
        print(f"{scenario.info.title}: unwilling or unable? The public record against the simulator")
        what_if = what_if_text(scenario.overrides)
        if what_if:
            print(f"  what-if: {what_if}")
        lo, hi = result.will_range
        print(f"  unknowns: will, one per period (prior uniform {lo:g}-{hi:g})"
              + "".join(f"; {c.key} (prior uniform {c.low:g}-{c.high:g})" for c in result.capability)
              + f"; {s['samples']} capability points x {s['flights_per_sample']:,} flights, seed {s['seed']}")
        for p in s["periods"]:
            print(f"  {p['verdict_text']}")
        c = s["capability"]
        print("  capability if willing (shared by the periods): " + ", ".join(
            f"{label} {c[k]['mean']:.3f} [{c[k]['ci90'][0]:.3f}-{c[k]['ci90'][1]:.3f}]" for label, k in (
                ("P(detect)", "p_detect"), ("P(held in time)", "p_held_in_time"),
                ("P(could order to land)", "p_could_act_if_willing"), ("P(could stop)", "p_could_stop_if_willing"))))
        for i in s["capability_inputs"]:
            print(f"  {i['key']}: {i['mean']:.3g} [{i['ci90'][0]:.3g}-{i['ci90'][1]:.3g}] (prior {i['prior'][0]:g}-"
                  f"{i['prior'][1]:g})")
        for ch in s["will_changes"]:
            print(f"  will from {ch['from']} to {ch['to']}: {ch['mean']:+.3f} [{ch['ci90'][0]:+.3f}-"
                  f"{ch['ci90'][1]:+.3f}], P(increase) {ch['p_increase']:.3f}")
        checks = "; ".join(f"{p['name']}: " + ", ".join(
            f"{k.replace('_', ' ')} {v['observed']} (predicted {v['predicted_mean']:.1f} [{v['predicted_ci90'][0]}-"
            f"{v['predicted_ci90'][1]}], p {v['p_value']:.2f})" for k, v in p["predictive_check"].items())
            for p in s["periods"])
        print(f"  posterior predictive check: {checks}")
        d = s["diagnostics"]
        print(f"  diagnostics: PSIS k-hat {d['psis_khat']:.2f}, importance ESS {d['importance_ess']:,.0f} of "
              f"{d['particles']:,} particles; time: simulate {result.timings_s['simulate_s']:.1f} s, posterior "
              f"{result.timings_s['posterior_s']:.1f} s")
        print(f"outputs: {out}/ (infer.png, prior_posterior.png, posterior.nc, infer.json, README.txt)")
    return 0
