"""The stream units' latencies as their docs pages state them, written here by hand: never read from rtl/.

Each entry: the cycles from a reference input beat's acceptance to its reference output beat being valid on
``o``, nothing stalling, and where it is written. The benches compare the simulated unit against these
numbers, so a unit whose pipeline changes fails until its docs (and this table) are updated together.
"""

from fractions import Fraction
from math import ceil, log2

__all__ = ["DOCUMENTED", "documented_latency"]

#: unit -> (where the docs state it, the reference points)
DOCUMENTED = {
    "convert": ("README.md, pipelined converters: 'Latency is N cycles' (N = --stages)",
                "an input beat accepted -> its result valid"),
    "posit-decode": ("README.md, posit decoder: 'handshake; latency N' (N = stages)",
                     "a pattern on i -> its fields on o"),
    "w4-dequantize": ("docs/weights.md, Timing: 'Latency is **2 + S cycles** from a beat's acceptance to its "
                      "results' (S = --stages, default 5)", "a beat accepted -> its results valid"),
    "bfp-encode": ("docs/bfp.md, Timing: 'Latency is **B/N + 3 + S cycles** from the acceptance of a block's last "
                   "beat to the block on o, one more with more than 4 lanes' (S = --stages, default 2)",
                   "a block's last beat accepted -> the encoded block valid"),
    "mx-quantize": ("docs/mx.md, Datapath and timing: 'Latency: 5 + stages cycles (MX; stages 3 by default) and "
                    "10 + stages (NVFP4; stages 5 by default) from the edge that accepts a block's last beat to its "
                    "first output beat'", "a block's last beat accepted -> its first output beat valid"),
    "mx-dequantize": ("docs/mx.md: 'Latency 1 + stages (stages 3 by default), one beat per cycle'",
                      "a beat accepted -> its results valid"),
    "qmac": ("docs/qmac.md, Latency and throughput: the table (lanes 1, 2, 4, 8, 16, 32, 64: 8, 9, 9, 10, 10, 11, "
             "11); requant_cycles N: '2 + ceil(ceil(log2 lanes) / 2) + 1 + (N + 6)'; with --dsp ecp5 'the tree "
             "term is ceil(log2 lanes)'", "a dot product's last beat accepted -> its result valid"),
    "dot": ("docs/dot_unit.md, Timing: 'Latency ... is **3 + stages** in every mode'",
            "a dot product's last beat accepted -> its result valid"),
    "posit-dot": ("docs/posit_dot.md, Protocol and latency: 'decode 1 + multiply 1 + place 1 + ceil(log2 lanes) + "
                  "accumulate 1 + (G - 1) + stages + output 1, G = ceil(quire width / 64)'; the width from 'The "
                  "quire's width' there", "a dot product's last beat accepted -> its result valid"),
}

# docs/qmac.md's table for the pipelined requantizer, verbatim
_QMAC_TABLE = {1: 8, 2: 9, 4: 9, 8: 10, 16: 10, 32: 11, 64: 11}


def documented_latency(name, options):
    """The documented latency (cycles) of unit ``name`` with options ``options`` (a dict; defaults as the
    docs give them)."""
    if name in ("convert", "posit-decode"):
        return options["stages"]
    if name == "w4-dequantize":
        return 2 + options.get("stages", 5)
    if name == "bfp-encode":
        return (options["block"] // options["lanes"] + 3 + options.get("stages", 2)
                + (1 if options["lanes"] > 4 else 0))
    if name == "mx-quantize":
        nvfp4 = options.get("scheme") == "nvfp4"
        stages = options.get("stages")
        return (10 if nvfp4 else 5) + ((5 if nvfp4 else 3) if stages is None else stages)
    if name == "mx-dequantize":
        stages = options.get("stages")
        return 1 + (3 if stages is None else stages)
    if name == "qmac":
        lanes, n = options["lanes"], options.get("requant_cycles", 1)
        levels = ceil(log2(lanes)) if lanes > 1 else 0
        tree = levels if options.get("dsp", "infer") == "ecp5" else ceil(levels / 2)
        if n == 1 and options.get("dsp", "infer") != "ecp5":
            return _QMAC_TABLE[lanes] if lanes in _QMAC_TABLE else 2 + tree + 1 + 5
        return 2 + tree + 1 + (n + 6)
    if name == "dot":
        return 3 + options["stages"]
    if name == "posit-dot":
        G = -(-_posit_quire_width(options) // 64)
        return 3 + ceil(log2(options["lanes"])) + 1 + (G - 1) + options["stages"] + 1
    raise KeyError(f"no documented latency for unit {name!r}: add it to {__name__}.DOCUMENTED")


def _posit_quire_width(o):
    """docs/posit_dot.md, 'The quire's width': ms = (n - 2) 2**es; standard: T = 2**31 - 1; exact: T =
    max_terms; M = T 2**(2 ms) (+ 2**ms_out with an addend), lo = -2 ms (min(-2 ms, -ms_out) with an addend),
    width = bit_length(M / 2**lo) + 1 (M / 2**lo rounded up)."""
    n, es = o["n"], o["es"]
    n_out = min(2 * n, 32) if o.get("n_out") is None else o["n_out"]
    es_out = es if o.get("es_out") is None else o["es_out"]
    ms, ms_out = (n - 2) << es, (n_out - 2) << es_out
    T = o["max_terms"] if o.get("quire", "standard") == "exact" else (1 << 31) - 1
    lo = min(-2 * ms, -ms_out) if o.get("addend") else -2 * ms
    top = Fraction(T) * Fraction(2) ** (2 * ms) + (Fraction(2) ** ms_out if o.get("addend") else 0)
    scaled = top / Fraction(2) ** lo
    return ceil(scaled).bit_length() + 1
