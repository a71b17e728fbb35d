"""``fmtforge prove convert ...`` and ``fmtforge prove matrix ...``: proofs from the command line.

Plugged into ``fmtforge`` through the ``fmtforge.commands`` entry point group. Exit status: 0 proven,
1 counterexample, 3 unknown (the solver gave up, a timeout, a solver fault, no specification), 2 bad input.
"""

import json
import sys

from fmtforge.rtl.cli.options import format_arg, int_in

__all__ = ["add_prove"]


def _positive(text):
    import argparse
    try:
        value = float(text)
    except ValueError:
        value = -1
    if not value > 0:
        raise argparse.ArgumentTypeError(f"timeout must be a positive number of seconds, not {text!r}")
    return value



def _cmd_convert(args):
    from fmtforge.rtl.cli.options import CliError

    from .run import run_convert
    try:
        outcome, text = run_convert(src=args.src, dst=args.dst, rounding=args.rounding, saturate=args.saturate,
                                    flags=args.flags, ftz=args.ftz, daz=args.daz, tininess=args.tininess,
                                    rand_bits=args.rand_bits, stages=args.stages, solver=args.solver,
                                    timeout=args.timeout, verilog=args.verilog, top=args.top)
    except ValueError as e:
        raise CliError(str(e)) from None
    print(text)
    if args.json:
        from fmtforge.rtl.cli.output import write_output
        write_output(json.dumps(outcome, indent=1) + "\n", args.json, "--json")
    status = {"proven": 0, "counterexample": 1}.get(outcome["result"], 3)
    if status:
        sys.exit(status)


def _cmd_matrix(args):
    from fmtforge.rtl.cli.options import CliError

    from .matrix import run_matrix
    if args.jobs is not None and args.jobs < 1:
        raise CliError(f"jobs must be a positive integer, not {args.jobs}")
    try:
        summary = run_matrix(output_dir=args.output_dir, sample=args.sample, jobs=args.jobs,
                             scheduler=args.scheduler, timeout=args.timeout, srcs=args.src, dsts=args.dst,
                             batch=args.batch, pick=args.pick, seed=args.seed)
    except ValueError as e:
        raise CliError(str(e)) from None
    print(summary["line"])
    if summary["counterexample"] or summary["unknown"]:
        sys.exit(1 if summary["counterexample"] else 3)


def add_prove(subparsers):
    """``prove convert ...`` and ``prove matrix ...`` on an argparse ``subparsers`` object."""
    from fmtforge import golden

    from .options import TININESS
    p = subparsers.add_parser("prove", help="prove a converter equal to an independent specification",
                              description="Prove, for every input, that a converter's Verilog equals a "
                              "specification written from IEEE 754 / SMT-LIB FloatingPoint and the README "
                              "(not from golden or the RTL). Exit status 0 proven, 1 counterexample, 3 unknown, "
                              "2 bad input. See docs/prove.md.")
    sub = p.add_subparsers(dest="what", required=True, metavar="WHAT")
    q = sub.add_parser("convert", help="prove one converter (generated, or your own Verilog with --verilog)")
    q.add_argument("--src", type=format_arg, required=True, metavar="S", help="source format")
    q.add_argument("--dst", type=format_arg, required=True, metavar="D", help="destination format")
    q.add_argument("--rounding", choices=golden.MODES, default="rne", help="rounding mode (default rne)")
    q.add_argument("--saturate", action="store_true", help="overflow and infinities give +-max")
    q.add_argument("--flags", action="store_true", help="prove the 5-bit flags port too")
    q.add_argument("--ftz", action="store_true", help="flush subnormal results to zero (float destinations)")
    q.add_argument("--daz", action="store_true", help="read subnormal inputs as zero (float sources)")
    q.add_argument("--tininess", choices=TININESS, default="after",
                   help="UF when tiny after rounding (default; RISC-V, x86) or before rounding (Arm)")
    q.add_argument("--rand-bits", type=int_in(1, 32, "rand_bits"), default=16, metavar="R",
                   help="width of rand with stochastic rounding (1..32; default 16)")
    q.add_argument("--stages", type=int_in(0, 8, "stages"), default=0, metavar="N",
                   help="also prove the N-stage pipelined converter equal to the combinational one "
                   "(k-induction; 0..8, default 0)")
    q.add_argument("--solver", default="z3", help="z3 (the only one offered: see docs/prove.md)")
    q.add_argument("--timeout", type=_positive, metavar="S", help="give up after S seconds (exit status 3)")
    q.add_argument("--json", metavar="FILE", help="write {unit, options, result, seconds, solver, counterexample}")
    q.add_argument("--verilog", metavar="FILE", help="prove this Verilog file's module instead of the generated "
                   "one (ports as the generated converter's: i, o, flags, rand)")
    q.add_argument("--top", metavar="NAME", help="the module of --verilog to prove")
    q.set_defaults(func=_cmd_convert)
    m = sub.add_parser("matrix", help="prove every converter of `make regress`'s matrix (make prove)")
    m.add_argument("--output-dir", default="build/prove", help="report.json and report.md go here")
    m.add_argument("--sample", type=int_in(1, 100000, "sample"), default=1, metavar="K",
                   help="prove one converter in K (stratified as regress' matrix(sample=K)); default 1: all")
    m.add_argument("--pick", type=int_in(1, 100000, "pick"), metavar="N",
                   help="prove N converters of the selection, drawn at random with --seed (a measurement sample)")
    m.add_argument("--seed", type=int, default=0, help="seed of --pick (default 0)")
    m.add_argument("--src", action="append", type=format_arg, help="only these sources (repeatable)")
    m.add_argument("--dst", action="append", type=format_arg, help="only these destinations (repeatable)")
    m.add_argument("--jobs", type=int, help="local worker processes (default: the number of CPUs)")
    m.add_argument("--scheduler", help="a Dask scheduler address, tcp://HOST:PORT (default: local processes)")
    m.add_argument("--timeout", type=_positive, default=600, metavar="S", help="per proof (default 600 s)")
    m.add_argument("--batch", type=int_in(1, 256, "batch"), default=16, metavar="B",
                   help="converters per Yosys call (default 16)")
    m.set_defaults(func=_cmd_matrix)
    return p
