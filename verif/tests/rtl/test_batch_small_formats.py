"""The small formats of issue 16 (ml_dtypes' float8_e3m4 / float8_e4m3 / float8_e4m3b11fnuz, int2 / uint2,
int1 / uint1, MXINT8, IEEE P3109) as converter sources and destinations, bit for bit (flags included) against
golden on Verilator and Icarus, through the batch lane with many converters per build (verif/support/
multibundle.py).

Sources of <= 16 bits are swept exhaustively (in `make test`, Icarus takes a 16-bit float source's structured
set instead: every sign x exponent x sparse/dense/tie mantissas); fp32 sources get the structured set (every sign x exponent x the
sparse/dense/tie mantissas of each destination; Icarus: the corner exponents; with FMTFORGE_FULL=1 on
Verilator also a strided slice of 2**24 of all patterns). `make test` runs a slice of two
bundles that holds every new family as source and destination, every rounding mode and saturation on and off;
FMTFORGE_FULL=1 runs every new format to fp32 (rne), bf16 and fp8_e4m3 (every mode, both saturation settings),
and fp16, bf16 and fp32 to every new format in every mode with and without saturation.
"""


import numpy as np
import pytest

from fmtforge import golden
from fmtforge.verif.support.batch import multibundle
from fmtforge.verif.support.vectors.structured import exponent_corners, strided, structured
from fmtforge.verif.support.vectors.patterns import seed
from fmtforge.verif.tests.conftest import FULL
from fmtforge.verif.support.vectors.format_sets import SMALL_FORMATS

SIMS = ("verilator", "icarus")
MODES = golden.MODES
STRIDED = 1 << 24

#: issue 16's formats (the signed finite P3109 ones are the fnuz minifloats, in the main matrix): catalog entries
#: and parametric P3109 shapes (6, 5, 4, 3 and 16 bits; P = 1; the unsigned finite domain)
NEW = list(SMALL_FORMATS)

SLICE = {
    # fp16 to new formats, and new 8-bit formats (reading the input's low byte) to fp16 / bf16 / fp8
    "fp16-and-narrow": [("fp16", "p3109_k8p3", "rne", False), ("fp16", "p3109_k8p4_unsigned_finite", "rup", False),
                        ("fp16", "mxint8", "rmm", True),
                        ("p3109_k8p3", "fp16", "rne", False), ("p3109_k8p4_unsigned", "bf16", "rdn", True),
                        ("mxint8", "fp8_e4m3", "rne", False), ("int1", "fp6_e3m2", "rmm", False),
                        ("float8_e3m4", "fp8_e4m3", "rup", False)],
    "fp32-to-new": [("fp32", "p3109_k8p3", "rne", False), ("fp32", "float8_e3m4", "rne", True),
                    ("fp32", "mxint8", "rmm", True), ("fp32", "p3109_k8p4_unsigned", "rtz", True),
                    ("fp32", "float8_e4m3", "rup", False), ("fp32", "p3109_k8p1", "rdn", False),
                    ("fp32", "int2", "rup", False), ("fp32", "p3109_k8p4", "stochastic", False),
                    ("fp32", "p3109_k6p3", "rne", True), ("fp32", "uint1", "rne", False),
                    ("fp32", "p3109_k8p3_unsigned", "rdn", False)],
}


def full_matrix():
    """{name: conversions} for FMTFORGE_FULL=1, split into bundles that fit the lane."""
    every = [(r, s) for r in MODES for s in (False, True)]
    groups = {
        "new-to-wide": [(n, d, r, s) for n in NEW for d, modes in (("fp32", [("rne", False), ("rne", True)]),
                                                                    ("bf16", every), ("fp8_e4m3", every))
                        for r, s in modes],
        "fp16-to-new": [("fp16", n, r, s) for n in NEW if n != "p3109_k16p11" for r, s in every],
        "bf16-to-new": [("bf16", n, r, s) for n in NEW for r, s in every],
        "fp32-to-new": [("fp32", n, r, s) for n in NEW for r, s in every],
    }
    out = {}
    for name, convs in groups.items():
        if name == "new-to-wide":  # 16-bit sources apart: the 8-bit ones then sweep 256 patterns, not 65536
            narrow = [c for c in convs if golden.lookup(c[0]).width <= 8]
            convs = narrow + [c for c in convs if c not in narrow]
        for k, b in enumerate(multibundle.bundles(convs)):
            out[f"{name}-{k}"] = b
    return out


CASES = full_matrix() if FULL else SLICE


def inputs(convs, sim):
    srcs = {golden.lookup(c[0]) for c in convs}
    if all(s.width <= 16 for s in srcs):
        width = max(s.width for s in srcs)
        if width > 8 and sim == "icarus" and not FULL:
            # Icarus in make test: every sign x exponent x the structured mantissas of the 16-bit float source
            # (~10x fewer than all 65536), and every pattern of the 8-bit sources
            sets = [structured(c[0], c[1]) for c in convs if golden.lookup(c[0]).width > 8]
            return np.unique(np.concatenate(sets + [np.arange(256, dtype=np.uint64)]))
        return np.arange(1 << width, dtype=np.uint64)
    assert srcs == {golden.lookup("fp32")}, "a bundle with a wide source has fp32 alone"
    sets = []
    for c in convs:
        exps = exponent_corners("fp32", c[1]) if sim == "icarus" else None
        sets.append(structured("fp32", c[1], exponents=exps))
    if FULL and sim == "verilator":  # and a strided slice of all 2**32 patterns, rotating with the seed
        sets.append(strided(32, STRIDED, seed() % ((1 << 32) // STRIDED)))
    return np.unique(np.concatenate(sets))


@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("name", list(CASES))
def test_small_formats(name, sim):
    convs = CASES[name]
    print(f"seed {seed()}; {', '.join(multibundle.conv_label(c) for c in convs)}")
    xs = inputs(convs, sim)
    top = f"smallfmt_{name.replace('-', '_')}" + ("_full" if FULL else "")
    multibundle.check(convs, xs, sim, np.random.default_rng(seed()), top)


def test_slice_covers_every_family_mode_and_saturation():
    convs = [c for b in SLICE.values() for c in b]
    fmts = {golden.lookup(n) for c in convs for n in c[:2]}
    kinds = {(type(f).__name__, getattr(f, "signed", True), getattr(f, "extended", None), getattr(f, "frac_bits", 0) > 0)
             for f in fmts}
    # P3109 signed / unsigned, extended / finite; integers with and without a binary point; minifloats
    assert {("P3109", True, True, True), ("P3109", False, True, True), ("P3109", False, False, True),
            ("P3109", True, True, False)} <= kinds
    assert {("Integer", True, None, True), ("Integer", True, None, False), ("Integer", False, None, False)} <= kinds
    assert {c[2] for c in convs} == set(MODES)
    assert {c[3] for c in convs} == {False, True}
    srcs = {c[0] for c in convs}
    assert {"p3109_k8p3", "p3109_k8p4_unsigned", "mxint8", "int1", "float8_e3m4", "fp16", "fp32"} <= srcs


def test_bundles_fit_the_lane():
    full = full_matrix()
    for b in list(SLICE.values()) + list(full.values()):
        assert sum(5 + golden.lookup(c[1]).width for c in b) <= multibundle.MAX_WIDTH
    assert len({c for b in full.values() for c in b}) == sum(len(b) for b in full.values())
