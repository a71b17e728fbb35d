# amaranth: UnusedElaboratable=no
"""Beat mode's fixed-point accumulator (rtl/units/dot_beat.py) over every width the dot unit can give it.

The loop's rounding and the result's pack are built from three positions in the beat word (bit 0 at the
geometry's lsb): out's subnormal quantum ``qpos``, the overflow threshold ``ofpos`` (2**(emax + 1)) and the
width ``L = M - 1 - f`` of the mask of positions below the kept bits. How they are ordered depends on the
formats: with e4m3 x e4m3 into fp16 the word's top lies less than f + 1 bits above the threshold (``ofpos > L``);
e5m2 x e4m3 into fp16 with 2 lanes gives ``ofpos == L`` (an internal assertion failed there once); fp16 or bf16
products into fp16 give ``ofpos < L``. The addend's lowest bit far below the products' (fp16 x fp16 with an
fp32 addend) gives a lane sum with 101 constant low zeros, which once became a Verilator WIDTHEXPAND warning.

- every *width class* (a, b over every operand format the unit accepts, c and out over fp32 / fp16 / bf16,
  lanes 1, 2 and 4: the configurations whose lane-sum and accumulator geometries, c and out agree build the
  same beat loop) is built and elaborated with ``FMTFORGE_FULL=1`` (five shards, together every class under
  every rounding mode; ``-k 'every_width_class and 0'`` is one shard); make test builds the classes of the two
  configurations that failed and one of each (out, order of ``L`` and ``ofpos``) under every rounding;
- Verilator ``--lint-only -Wall`` and Yosys' check on configurations of each order and the constant-zero case.

Bit-exactness against golden.arith.dot is tested in simulation by test_dot.py (CONFIGS, both simulators) and
test_dot_batch.py (the beat class ``dot-beat-e5m2xe4m3-fp16-rdn-l2``).
"""

import warnings
from functools import cache

import pytest

from fmtforge import golden
from fmtforge.rtl.units.dot import dot_geometry
from fmtforge.rtl.units.dot_beat import _positions
from fmtforge.rtl.units.dot_check import ACC_FORMATS, ROUNDINGS, check_dot
from fmtforge.verif.support.benches.dot import dot_unit
from fmtforge.verif.tests.conftest import FULL, full_only

LANES = (1, 2, 4)


@cache
def operands():
    """Every catalog format the dot unit accepts as an operand (the unit's own check decides)."""
    ok = []
    for name in golden.CATALOG:
        try:
            check_dot(a=name, b=name, c="fp32", out="fp32", mode="beat", lanes=1, rounding="rne", window=None,
                      max_terms=None, stages=0, flags=False, dsp="infer")
        except ValueError:
            continue
        ok.append(name)
    return tuple(ok)


def order(tree, geo, out):
    """How ``L`` and ``ofpos`` are ordered for an accumulator geometry and result format: "<", "=" or ">"."""
    fmt = golden.lookup(out)
    L = geo.width - 2 - fmt.frac_bits
    ofpos = _positions(geo, fmt)[2]
    return "<" if ofpos < L else "=" if ofpos == L else ">"


@cache
def width_classes():
    """``{(tree geometry, accumulator geometry, c, out): first configuration}``, in a fixed order."""
    classes = {}
    for a in operands():
        for b in operands():
            for c in ACC_FORMATS:
                for out in ACC_FORMATS:
                    for lanes in LANES:
                        tree, geo = dot_geometry(*(golden.lookup(x) for x in (a, b, c, out)), "beat", lanes)
                        classes.setdefault((tree, geo, c, out), dict(a=a, b=b, c=c, out=out, lanes=lanes))
    return classes


def _build(config, rounding):
    """Construct and elaborate (every submodule); returns the error text or None."""
    from amaranth.hdl import Fragment
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Fragment.get(dot_unit(mode="beat", rounding=rounding, flags=True, **config), None)
    except Exception as e:  # every failure is collected and reported with its configuration
        return f"{config} {rounding}: {type(e).__name__}: {e}"
    return None


#: the configurations make test had failed on, by name
FAILED = [dict(a="fp8_e5m2", b="fp8_e4m3", c="fp16", out="fp16", lanes=2),  # AssertionError in _round
          dict(a="fp16", b="fp16", c="fp32", out="fp32", lanes=2)]  # WIDTHEXPAND on the lane sum's negation


def ci_slice():
    """The failing configurations' classes, then the first class of each (out, order) pair."""
    picked = list(FAILED)
    seen = set()
    for (tree, geo, c, out), config in width_classes().items():
        key = (out, order(tree, geo, out))
        if key not in seen:
            seen.add(key)
            picked.append(config)
    return picked


def test_every_order_is_reached():
    """The catalog's formats give every order of ``L`` and ``ofpos`` (so the sweep covers each), and the
    configuration that failed is the ``==`` case."""
    classes = width_classes()
    orders = {order(t, g, o) for t, g, _, o in classes}
    assert orders == {"<", "=", ">"}, orders
    f = FAILED[0]
    tree, geo = dot_geometry(*(golden.lookup(f[x]) for x in ("a", "b", "c", "out")), "beat", f["lanes"])
    assert order(tree, geo, "fp16") == "="
    assert len(classes) > 1000  # the sweep is not a handful


@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_beat_elaborates_ci_slice(rounding):
    errors = [e for e in (_build(c, rounding) for c in ci_slice()) if e]
    assert not errors, "\n".join(errors)


@full_only
@pytest.mark.parametrize("shard", range(len(ROUNDINGS)))
def test_beat_elaborates_every_width_class(shard):
    """Every width class (about 2500), class i under rounding ``ROUNDINGS[(i + shard) % 5]``: each shard builds
    every class once and uses every rounding on a fifth of them; the five shards together build every class
    under every rounding. Every failure is listed, not only the first."""
    errors = [e for i, c in enumerate(width_classes().values())
              if (e := _build(c, ROUNDINGS[(i + shard) % len(ROUNDINGS)]))]
    assert not errors, f"{len(errors)} failures:\n" + "\n".join(errors[:50])


LINT = [dict(FAILED[1], rounding="rne"),  # the lane sum 101 bits above the addend's lowest bit
        dict(FAILED[0], rounding="rdn"),  # ofpos == L
        dict(a="fp16", b="fp8_e5m2", c="bf16", out="fp16", lanes=4, rounding="rup"),  # ofpos far below L
        dict(a="fp4_e2m1", b="int4", c="fp32", out="bf16", lanes=1, rounding="rmm")]  # tiny products, wide c
if FULL:
    LINT += [dict(a="bf16", b="fp16", c="bf16", out="fp16", lanes=4, rounding="rup"),  # a 300-bit word
             dict(a="float8_e4m3b11fnuz", b="cfloat8_1_5_2", c="bf16", out="fp32", lanes=2, rounding="rtz"),
             dict(a="int8", b="bf16", c="fp16", out="bf16", lanes=4, rounding="rdn")]


@pytest.mark.parametrize("c", LINT, ids=lambda c: dot_unit(mode="beat", **c).name)
def test_beat_lint(c):
    """`verilator --lint-only -Wall` (the project's waivers) and Yosys' check report nothing."""
    from fmtforge.rtl.flow import lint
    from fmtforge.verif.support.sim.lint import verilator_lint

    dut = dot_unit(mode="beat", flags=True, **c)
    lint(verilator_lint(dut), dut.name)
