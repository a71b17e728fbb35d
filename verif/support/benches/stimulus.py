"""A stream unit's stimulus and what it must produce: the one record the cocotb bench, the stream batch lane
and the mutation score read (made per unit by :mod:`.stream_cases` and :mod:`.stream_qmac`)."""

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Stimulus"]


@dataclass
class Stimulus:
    """``beats`` (n, words) uint64; ``side`` {port: (n,) uint64}; ``expect`` (m, words) uint64; output beat
    ``ref_out[k]`` comes ``latency`` cycles after input beat ``ref_in[k]`` is accepted when nothing stalls (and
    never sooner); ``what(k)`` names output beat k's inputs; ``align``: the stimulus may be cut (into runs that
    each start from reset) only after a multiple of ``align`` reference pairs (w4: whole groups, which the
    unit counts from reset)."""
    beats: np.ndarray
    expect: np.ndarray
    ref_in: np.ndarray
    ref_out: np.ndarray
    latency: int
    what: object
    side: dict = field(default_factory=dict)
    align: int = 1
