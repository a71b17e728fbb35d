"""Timing diagrams of the dot-product units (dot, posit-dot, mx-dot), made like the block units' in
:mod:`.blocks`: a short scripted stimulus with a gap in ``i.valid`` and ``o.ready`` held low, values as they are
just before the rising edge that ends the cycle. Input beats are named (``P0`` is dot product P's first beat);
results in hex. verif/tests/rtl/test_waves.py checks each trace against golden and the documented latency.
"""

from fmtforge import golden
from fmtforge.verif.support.waves.blocks import _field, _handshakes, _label, _o_buses, _o_handshake, _stream
from fmtforge.verif.support.waves.core import _run, wavedrom

__all__ = ["DOT_JOBS", "MXDOT_JOBS", "PDOT_JOBS", "dot_beats", "mxdot_beats", "pdot_beats", "trace_dot",
           "trace_mx_dot", "trace_posit_dot"]


def _codes(fmt, values):
    """Bit patterns of ``values`` in format ``fmt`` (each exactly representable)."""
    import numpy as np
    f = golden.lookup(fmt)
    bits = [int(b) for b in f.encode(np.array(values, dtype=np.float64))]
    assert list(f.decode(np.array(bits))) == list(values), f"{values} are not all {fmt} values"
    return bits


def _names(jobs, per):
    """Beat names: ``P0``, ``P1`` ... for each job ``(name, (a, b), ...)`` of ``per`` products a beat."""
    return [f"{job[0]}{j}" for job in jobs for j in range(len(job[1][0]) // per)]


def _probes(dut, payloads, names, out_label="o.data", out_get=None):
    return (_handshakes(dut) + [("i", _label(dut.i, payloads, names)),
                                ("i.last", _field(dut.i, lambda p: p.last))]
            + _o_handshake(dut) + [(out_label, _field(dut.o, out_get or (lambda p: p.data)))])


def _diagram(trace, dut, latency, foot, hexwidth):
    return wavedrom(trace, buses=("i", "o.data"), hexwidth={"o.data": hexwidth},
                    handshake={"i": ("i.valid", "i.ready"), **_o_buses(("o.data",))},
                    head=f"{dut.name}: latency {latency} from a dot product's last beat", foot=foot)


def _trace(unit_name, options, fields, names, cycles, gaps, low, foot, hexwidth, out_get=None):
    """Trace unit ``unit_name`` (registry ``options``) fed the beats ``fields`` (dicts of the input layout's
    fields, packed by the unit's own layout) named ``names``; its diagram with ``foot``."""
    from fmtforge.rtl.units import UNITS
    unit = UNITS[unit_name].configure(**options)
    dut = unit.create()
    payloads = [dut.in_layout.const(f).as_value().value for f in fields]
    trace = _run(dut, cycles, _stream(dut, payloads, gaps, low), _probes(dut, payloads, names, out_get=out_get))
    return trace, _diagram(trace, dut, unit.latency, foot, hexwidth)


def _lanes(codes, j, lanes):
    return codes[j * lanes:(j + 1) * lanes]


# -- dot ----------------------------------------------------------------------------------------------------
# (name, (a values, b values), c): 2 lanes of fp8_e4m3, an fp32 addend, exact mode into fp32
DOT_JOBS = [("P", ([1.5, 2.0, -0.25, 3.0], [2.0, 0.5, 4.0, -1.0]), 0.5),  # 3 + 1 - 1 - 3 + 0.5 = 0.5
            ("Q", ([448.0, 2.0 ** -9], [448.0, 2.0 ** -9]), 0.0),  # 200704 + 2**-18: exact before one rounding
            ("R", ([448.0, -448.0], [448.0, 448.0]), -0.0)]  # cancels exactly: +0 (rne)
DOT_LANES = 2
DOT_GAPS = (2,)
DOT_O_READY_LOW = (6, 7)


def dot_options():
    return dict(a="fp8_e4m3", b="fp8_e4m3", c="fp32", out="fp32", mode="exact", lanes=DOT_LANES, max_terms=64)


def dot_beats(jobs=DOT_JOBS, lanes=DOT_LANES):
    """The dot unit's input beats (fields a, b, c, last)."""
    out = []
    for _, (a, b), c in jobs:
        ca, cb, cc = _codes("fp8_e4m3", a), _codes("fp8_e4m3", b), _codes("fp32", [c])[0]
        beats = len(a) // lanes
        out += [{"a": _lanes(ca, j, lanes), "b": _lanes(cb, j, lanes), "c": cc, "last": int(j == beats - 1)}
                for j in range(beats)]
    return out


def trace_dot():
    return _trace("dot", dot_options(), dot_beats(), _names(DOT_JOBS, DOT_LANES), 12, DOT_GAPS, DOT_O_READY_LOW,
                  "fp8_e4m3 x 2 lanes + fp32 c, exact: P = 0.5 (2 beats), Q = 448**2 + 2**-18 (exact, then rounded "
                  "once), R = 448**2 - 448**2 = +0; o.ready low in cycles 6-7", 8)


# -- posit-dot ----------------------------------------------------------------------------------------------
PDOT_JOBS = [("P", ([1.0, 2.0, 0.5, -1.0], [3.0, 0.25, 4.0, 1.0])),  # 3 + 0.5 + 2 - 1 = 4.5
             ("Q", ([2.0 ** 24, -(2.0 ** 24)], [2.0 ** 24, 2.0 ** 24])),  # cancels in the quire: 0
             ("R", ([2.0 ** -24, 1.0], [2.0 ** -24, 1.0]))]  # 1 + 2**-48: rounds to 1 in posit(16, 2)
PDOT_LANES = 2
PDOT_GAPS = (1,)
PDOT_O_READY_LOW = (10, 11)


def pdot_options():
    return dict(n=8, es=2, n_out=16, es_out=2, lanes=PDOT_LANES, quire="exact", max_terms=64, stages=2)


def pdot_beats(jobs=PDOT_JOBS, lanes=PDOT_LANES):
    """posit-dot's input beats (fields a, b, last)."""
    out = []
    for _, (a, b) in jobs:
        ca, cb = _codes("posit8", a), _codes("posit8", b)
        beats = len(a) // lanes
        out += [{"a": _lanes(ca, j, lanes), "b": _lanes(cb, j, lanes), "last": int(j == beats - 1)}
                for j in range(beats)]
    return out


def trace_posit_dot():
    return _trace("posit-dot", pdot_options(), pdot_beats(), _names(PDOT_JOBS, PDOT_LANES), 15, PDOT_GAPS,
                  PDOT_O_READY_LOW, "posit(8,2) x 2 lanes -> posit(16,2), exact quire: P = 4.5, Q = 2**48 - 2**48 = "
                  "0 (exact in the quire), R = 1 + 2**-48 -> 1 (one rounding); o.ready low in cycles 10-11", 4,
                  out_get=lambda p: p)


# -- mx-dot -------------------------------------------------------------------------------------------------
# (name, [(a block, b block, xa, xb)], c): blocks of 16 fp8_e4m3 elements, 8 lanes (2 beats per block)
MXDOT_K, MXDOT_LANES = 16, 8
MXDOT_JOBS = [("P", [([1.0] * 8 + [2.0] * 8, [0.5] * 16, 127, 127), ([2.0] + [0.0] * 15, [3.0] + [0.0] * 15, 128, 126)], 0.0),
              ("Q", [([448.0] * 8 + [-448.0] * 8, [1.0] * 16, 127 + 10, 127)], 0.25)]
MXDOT_GAPS = (2,)
MXDOT_O_READY_LOW = (10, 11)


def mxdot_options():
    return dict(a_elem="fp8_e4m3", b_elem="fp8_e4m3", block_size=MXDOT_K, lanes=MXDOT_LANES, accumulate="exact",
                max_blocks=16)


def mxdot_beats(jobs=MXDOT_JOBS, k=MXDOT_K, lanes=MXDOT_LANES):
    """mx-dot's input beats (fields a, b, xa, xb, c, last)."""
    out = []
    for _, blocks, c in jobs:
        cc = _codes("fp32", [c])[0]
        for i, (a, b, xa, xb) in enumerate(blocks):
            ca, cb = _codes("fp8_e4m3", a), _codes("fp8_e4m3", b)
            out += [{"a": _lanes(ca, j, lanes), "b": _lanes(cb, j, lanes), "xa": xa, "xb": xb, "c": cc,
                     "last": int(i == len(blocks) - 1 and j == k // lanes - 1)} for j in range(k // lanes)]
    return out


def trace_mx_dot():
    names = [f"{name}{j}" for name, blocks, _ in MXDOT_JOBS for j in range(len(blocks) * MXDOT_K // MXDOT_LANES)]
    return _trace("mx-dot", mxdot_options(), mxdot_beats(), names, 14, MXDOT_GAPS, MXDOT_O_READY_LOW,
                  "MXFP8 E4M3 blocks of 16, 8 lanes (2 beats a block), fp32 c, exact: P = 8 * 0.5 + 8 * 2 * 0.5 + "
                  "2**1 * 2**-1 * 2 * 3 = 18 (2 blocks), Q = 2**10 * (8 * 448 - 8 * 448) + 0.25 = 0.25; o.ready low "
                  "in cycles 10-11", 8)
