"""The stream units' latencies as their docs pages state them, written here by hand: never read from rtl/.

Each entry: the cycles from a reference input beat's acceptance to its reference output beat being valid on
``o``, nothing stalling, and where it is written. The benches compare the simulated unit against these
numbers, so a unit whose pipeline changes fails until its docs (and this table) are updated together.
"""

from math import ceil, log2

__all__ = ["DOCUMENTED", "documented_latency"]

#: unit -> (where the docs state it, the reference points)
DOCUMENTED = {
    "convert": ("README.md, pipelined converters: 'Latency is N cycles' (N = --stages)",
                "an input beat accepted -> its result valid"),
    "posit-decode": ("README.md, posit decoder: 'handshake; latency N' (N = stages)",
                     "a pattern on i -> its fields on o"),
    "w4-dequantize": ("docs/weights.md, Timing: 'Latency is 2 cycles from a beat's acceptance to its results'",
                      "a beat accepted -> its results valid"),
    "bfp-encode": ("docs/bfp.md: 'Latency is 2 cycles from the acceptance of a block's last beat to the block'",
                   "a block's last beat accepted -> the encoded block valid"),
    "mx-quantize": ("docs/mx.md: '2 cycles from the edge that accepts a block's last beat to its first output "
                    "beat'", "a block's last beat accepted -> its first output beat valid"),
    "mx-dequantize": ("docs/mx.md: 'Latency 1, one beat per cycle'", "a beat accepted -> its results valid"),
    "qmac": ("docs/qmac.md, Latency and throughput: the table (lanes 1, 2, 4, 8, 16, 32, 64: 8, 9, 9, 10, 10, 11, "
             "11); requant_cycles N: '2 + ceil(ceil(log2 lanes) / 2) + 1 + (N + 6)'; with --dsp ecp5 'the tree "
             "term is ceil(log2 lanes)'", "a dot product's last beat accepted -> its result valid"),
}

# docs/qmac.md's table for the pipelined requantizer, verbatim
_QMAC_TABLE = {1: 8, 2: 9, 4: 9, 8: 10, 16: 10, 32: 11, 64: 11}


def documented_latency(name, options):
    """The documented latency (cycles) of unit ``name`` with options ``options`` (a dict; defaults as the
    docs give them)."""
    if name in ("convert", "posit-decode"):
        return options["stages"]
    if name in ("w4-dequantize", "bfp-encode", "mx-quantize"):
        return 2
    if name == "mx-dequantize":
        return 1
    if name == "qmac":
        lanes, n = options["lanes"], options.get("requant_cycles", 1)
        levels = ceil(log2(lanes)) if lanes > 1 else 0
        tree = levels if options.get("dsp", "infer") == "ecp5" else ceil(levels / 2)
        if n == 1 and options.get("dsp", "infer") != "ecp5":
            return _QMAC_TABLE[lanes] if lanes in _QMAC_TABLE else 2 + tree + 1 + 5
        return 2 + tree + 1 + (n + 6)
    raise KeyError(f"no documented latency for unit {name!r}: add it to {__name__}.DOCUMENTED")
