"""Unit options on the command line, made from the registry (no argparse is written per unit)."""

import argparse

from fmtforge import golden

from ..units.registry import UNITS

__all__ = ["CliError", "add_unit_parsers", "format_arg", "int_in", "unit_options"]

_DEST = "unit_option__"  # argparse attributes holding unit options carry this prefix


class CliError(Exception):
    """A user error: printed as one line, exit status 2."""


def format_arg(name):
    """argparse type of a format name."""
    try:
        return golden.lookup(name)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def int_in(lo, hi, name):
    """argparse type of an integer in lo..hi (decimal or 0x...), its error naming ``name`` and the range."""
    def parse(text):
        try:
            value = int(text, 0)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer in {lo}..{hi}, not {text!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{name} must be an integer in {lo}..{hi}, not {value}")
        return value
    return parse


def _add(parser, o):
    dest = _DEST + o.name
    if o.kind == "bool":
        parser.add_argument(o.flag, dest=dest, action="store_true", help=o.help)
        return
    default = "" if o.required else f"; default: {o.default}"
    if o.kind == "int":
        lo, hi = o.range
        parser.add_argument(o.flag, dest=dest, type=int_in(lo, hi, o.name), required=o.required,
                            default=None if o.required else o.default, metavar=o.metavar,
                            help=f"{o.help} ({lo}..{hi}{default})")
    elif o.kind == "choice":
        parser.add_argument(o.flag, dest=dest, choices=o.choices, required=o.required,
                            default=None if o.required else o.default, help=f"{o.help} ({', '.join(o.choices)}"
                            f"{default})")
    else:
        parser.add_argument(o.flag, dest=dest, type=format_arg, required=o.required, metavar=o.metavar,
                            default=None if o.required else o.default, help=o.help)


def add_unit_parsers(subparsers):
    """One sub-parser per registered unit on ``subparsers``, its options from the registry; returns them."""
    parsers = []
    for unit in UNITS.values():
        p = subparsers.add_parser(unit.name, help=unit.summary.replace("`", ""), description=unit.description)
        for o in unit.options:
            _add(p, o)
        parsers.append(p)
    return parsers


def unit_options(args):
    """The unit's options from parsed arguments (format objects as their names)."""
    return {k[len(_DEST):]: getattr(v, "name", v) for k, v in vars(args).items() if k.startswith(_DEST)}
