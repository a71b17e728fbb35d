"""golden.convert_words: results as uint64 words (low first), equal to convert_flags' Python ints.

The x87 destination's fast plan writes words directly (no Python ints); checked against the exact path on
structured fp32/fp16/bf16 inputs (every sign x exponent x sparse mantissas, NaNs, infinities, zeros) plus seeded
random ones, in every deterministic mode and with saturation."""

import numpy as np
import pytest

from fmtforge import golden
from fmtforge.golden.formats.convert import convert_flags_exact, to_words
from fmtforge.golden.formats import fastconv
from fmtforge.golden.formats.fastconv import DETERMINISTIC
from fmtforge.verif.support.vectors.structured import mantissas

SEED = 20261202


def _inputs(name):
    f = golden.lookup(name)
    E, F = f.exp_bits, f.frac_bits
    mants = sorted(mantissas(F))
    pats = [(s << (f.width - 1)) | (e << F) | m for s in (0, 1) for e in range(1 << E) for m in mants]
    rng = np.random.default_rng(SEED)
    rand = rng.integers(0, 1 << f.width, 1024, dtype=np.uint64)
    return np.concatenate([np.array(pats, dtype=np.uint64), rand]).astype(f.dtype)


@pytest.mark.parametrize("src", ["fp32", "fp16", "bf16"])
@pytest.mark.parametrize("mode", DETERMINISTIC)
def test_x87_words_equal_exact(src, mode):
    x = _inputs(src)
    print(f"seed {SEED}")
    for sat in (False, True):
        want, wflags = convert_flags_exact(x, src, "x87", mode, sat)
        p = fastconv.plan(golden.lookup(src), golden.lookup("x87"), mode, sat, None)
        assert p is not None and hasattr(p, "words"), "the x87 destination has a words fast path"
        got, gflags = p.words(x)
        ref = to_words(want, 80)
        bad = np.flatnonzero((ref != got).any(axis=1) | (wflags != gflags))
        assert bad.size == 0, (f"{src}->x87 {mode} sat={sat}: input {int(x[bad[0]]):#x} expected "
                               f"{int(want[bad[0]]):#022x} got {int(got[bad[0], 1]):#06x}{int(got[bad[0], 0]):016x}")


def test_words_of_narrow_and_shape():
    x = np.arange(64, dtype=np.uint8).reshape(8, 8)
    w, f = golden.convert_words(x, "fp8_e4m3", "fp32")
    assert w.shape == (8, 8, 1) and w.dtype == np.uint64
    assert np.array_equal(w[..., 0], golden.convert(x, "fp8_e4m3", "fp32").astype(np.uint64))
    big = np.array([0x3F800000, 0xFF800000, 0x00000001], dtype=np.uint32)
    w, _ = golden.convert_words(big, "fp32", "x87")
    # 1.0, -inf and the smallest fp32 subnormal 2**-149 in x87 (bias 16383, explicit integer bit)
    assert [(int(a[1]), int(a[0])) for a in w] == [(0x3FFF, 1 << 63), (0xFFFF, 1 << 63), (16383 - 149, 1 << 63)]
