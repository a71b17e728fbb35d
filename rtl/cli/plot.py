"""``fmtforge plot FORMAT [FORMAT ...] -o FILE.png|.svg``: the format atlas, one figure per call.

Four panels, one row per format in each: the bit layout of a sample pattern, every finite value on binades
(log2 |x|: positive values above each row's line, negative ones below), the dynamic range (smallest positive value to
the largest, in binades) and the relative precision (spacing to the next value over the value) against
magnitude -- where posit16's tapered precision shows beside fp8_e4m3's and bf16's flat steps. The data come from
:func:`fmtforge.golden.atlas.atlas_data`; matplotlib (Agg, headless) is imported only when the command runs.
"""

import io
from pathlib import Path

from fmtforge.golden.atlas import atlas_data
from .options import CliError, format_arg
from .output import write_output

__all__ = ["add_plot_subparser", "draw", "SUFFIXES"]

SUFFIXES = (".png", ".svg")
_COLOURS = {"sign": "#d62728", "exponent": "#1f77b4", "mantissa": "#2ca02c", "regime": "#ff7f0e",
            "fraction": "#2ca02c"}
_SHOWN = 4096  # values drawn per format in the values panel (all of them are in the data)


def _thin(a, k=_SHOWN):
    return a if len(a) <= k else a[:: -(-len(a) // k)]


def draw(formats, suffix=".png"):
    """The atlas figure of ``formats`` (golden formats) as PNG or SVG bytes."""
    return _draw(formats, suffix)


def _draw(formats, suffix):
    import matplotlib
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import numpy as np

    data = [atlas_data(f) for f in formats]
    rows = len(data)
    fig, axes = plt.subplots(4, 1, figsize=(10, 3.2 + 2.2 * rows + 2.5),
                             gridspec_kw={"height_ratios": [0.6 * rows + 0.4, rows + 0.4, 0.5 * rows + 0.6, 3]})
    lay, val, rng, prec = axes
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ylabels = [f"{d.name} ({d.width} b)" for d in data]

    # bit layout: one box per bit, coloured by field
    for i, d in enumerate(data):
        y = rows - 1 - i
        x = 0
        for field, bits in d.layout:
            colour = next((c for k, c in _COLOURS.items() if field.startswith(k)), "#9467bd")
            for b in bits:
                lay.add_patch(plt.Rectangle((x, y - 0.4), 1, 0.8, facecolor=colour, edgecolor="white", alpha=0.85))
                if d.width <= 32:
                    lay.text(x + 0.5, y, b, ha="center", va="center", fontsize=7, color="white")
                x += 1
            if bits:
                lay.text(x - len(bits) / 2, y + 0.5, f"{field} ({len(bits)})", ha="center", va="bottom", fontsize=7)
    lay.set_xlim(0, max(d.width for d in data))
    lay.set_ylim(-0.6, rows - 0.2 + 0.6)
    lay.set_yticks(range(rows), ylabels[::-1])
    lay.set_xlabel("bit (MSB first); the pattern of 1.5 (floats), 3.25 (posits), 3 (integers)")
    lay.set_title("bit layout")

    # every finite value, on binades (log2 |x|: an axis that holds fp64's and x87's ranges alike)
    span = (min(d.log2_min for d in data) - 2, max(d.log2_max for d in data) + 2)
    for ax in (val, prec):
        ax.set_xlim(*span)
        ax.autoscale(False, axis="x")
    for i, d in enumerate(data):
        y = rows - 1 - i
        pos, neg = _thin(d.log2_pos), _thin(d.log2_neg)
        val.scatter(pos, np.full(len(pos), y + 0.15), marker="|", s=40, color=colours[i % 10], linewidths=0.6,
                    rasterized=True)
        if len(neg):
            val.scatter(neg, np.full(len(neg), y - 0.15), marker="|", s=40, color=colours[i % 10],
                        linewidths=0.6, alpha=0.5, rasterized=True)
        val.axhline(y, color="0.85", linewidth=0.5)
        val.text(1.002, y, f"{d.count}{'' if d.exhaustive else ' sampled'}", transform=val.get_yaxis_transform(),
                 va="center", fontsize=7)
    val.set_yticks(range(rows), ylabels[::-1])
    val.set_xlabel("log2 |x|")
    val.set_title("every finite value, |x| (above each line: x > 0; below: x < 0)")

    # dynamic range
    for i, d in enumerate(data):
        y = rows - 1 - i
        rng.barh(y, d.log2_max - d.log2_min, left=d.log2_min, color=colours[i % 10], alpha=0.8, height=0.6)
        rng.text(d.log2_max, y, f"  {d.dynamic_range_binades:.4g} binades", va="center", fontsize=7)
    rng.set_yticks(range(rows), ylabels[::-1])
    rng.set_xlabel("log2 |x|: smallest positive value to the largest finite one")
    rng.set_title("dynamic range")

    # relative precision against magnitude
    for i, d in enumerate(data):
        if len(d.log2_magnitude):
            prec.step(d.log2_magnitude, d.rel_precision, where="post", color=colours[i % 10], label=d.name,
                      linewidth=1)
    prec.set_yscale("log")
    prec.set_xlabel("log2 |x|")
    prec.set_ylabel("(next value - x) / x")
    prec.set_title("relative precision")
    prec.grid(True, which="major", linewidth=0.3)
    prec.legend(fontsize=8)

    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format=suffix[1:], dpi=90, metadata={"Date": None} if suffix == ".svg" else None)
    plt.close(fig)
    return buf.getvalue()


def cmd_plot(args):
    suffix = Path(args.output).suffix.lower()
    if suffix not in SUFFIXES:
        raise CliError(f"--output must end in .png or .svg, not {args.output!r}")
    write_output(draw(args.formats, suffix), args.output, "--output")


def add_plot_subparser(subparsers):
    p = subparsers.add_parser("plot", help="draw formats: bit layout, values, dynamic range, relative precision",
                              description=__doc__.strip().splitlines()[0].split(": ", 1)[1])
    p.add_argument("formats", nargs="+", type=format_arg, metavar="FORMAT", help="format names (see `fmtforge list`)")
    p.add_argument("-o", "--output", required=True, help="the figure: FILE.png or FILE.svg")
    p.set_defaults(func=cmd_plot)
    return p
