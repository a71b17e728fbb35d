"""The qmac regression's jobs (dot products with their parameters) and its model: golden.quant.qmatmul
per unit type, edge jobs that reach the accumulator and requantizer corners, random and long jobs."""


import numpy as np

from fmtforge.golden import quant as gq
from fmtforge.rtl.units.qmac import TYPES


ENV = "FMTFORGE_QMAC"
INT32_MIN, INT32_MAX = gq.INT32_MIN, gq.INT32_MAX
ALL_TYPES = [(a, w, o) for a in TYPES for w in TYPES for o in TYPES]
SCALE_PORTS = ("bias", "m0", "shift")




def int_fmt(dtype):
    return gq.int_format(dtype)


def as_type(bits, dtype):
    """uint8 bit patterns as the integers they stand for in ``dtype`` (int64)."""
    bits = np.asarray(bits, dtype=np.uint8)
    return (bits.view(np.int8) if int_fmt(dtype).signed else bits).astype(np.int64)


def model(jobs, types, c):
    """Expected results, accumulators and exact (unwrapped) sums, each an array (job, unit).

    golden.quant.qmatmul computes whole matrix products; the dot products of many jobs come out of one call
    as the diagonal of ``Q1 @ Q2``, Q1's rows the jobs' ``a - Za`` and Q2's columns their ``w - Zw`` (their
    zero points subtracted exactly beforehand, so the calls take zero points 0), grouped by K and by
    ``(qmin, qmax)`` (scalars in golden.quant); bias, M0, shift and z3 are per column.
    """
    q3 = np.zeros((len(jobs), len(types)), dtype=np.int64)
    acc, exact = q3.copy(), q3.copy()
    modes = c.get("roundings") or [c["rounding"]] * len(types)
    for u, unit_types in enumerate(types):
        groups = {}
        for j, job in enumerate(jobs):
            groups.setdefault((len(job.a),) + job.outs[u][1:], []).append(j)
        for (_, qmin, qmax), idx in groups.items():
            ops = [jobs[j].operands(unit_types) for j in idx]
            Q1, Q2 = np.stack([o[0] for o in ops]), np.stack([o[1] for o in ops], axis=1)
            col = lambda f: np.array([f(jobs[j]) for j in idx], dtype=np.int64)  # noqa: E731
            bias = col(lambda jb: jb.bias)
            want = gq.qmatmul(Q1, 0, Q2, 0, M0=col(lambda jb: jb.m0), shift=col(lambda jb: jb.shift),
                              z3=col(lambda jb: jb.outs[u][0]), qmin=qmin, qmax=qmax, bias=bias,
                              mode=modes[u], acc_bits=c["acc_bits"])
            q3[idx, u] = np.diagonal(want)
            acc[idx, u] = np.diagonal(gq.qmatmul_acc(Q1, 0, Q2, 0, bias=bias, acc_bits=c["acc_bits"]))
            exact[idx, u] = np.einsum("jk,kj->j", Q1, Q2) + bias
    return q3, acc, exact


class Job:
    """One dot product: operand bit patterns (unpadded, length K), how the ragged tail is padded, the shared
    zero-point patterns and scale, and each unit's (z3, qmin, qmax)."""

    def __init__(self, kind, a, w, za, zw, bias, m0, shift, outs, pad="a"):
        self.kind, self.a, self.w = kind, np.asarray(a, np.uint8), np.asarray(w, np.uint8)
        self.za, self.zw, self.bias, self.m0, self.shift = za, zw, bias, m0, shift
        self.outs, self.pad = outs, pad

    def operands(self, unit_types):
        """(a - Za, w - Zw) as the unit of ``unit_types`` sees them (int64, exact)."""
        at, wt, _ = unit_types
        return (as_type(self.a, at) - as_type(self.za, at)[()], as_type(self.w, wt) - as_type(self.zw, wt)[()])

    def describe(self, unit, types, c, acc, exact):
        at, wt, ot = types[unit]
        z3, qmin, qmax = self.outs[unit]
        h8 = lambda v: f"0x{int(v) & 0xff:02x}"  # noqa: E731
        return (f"[{self.kind}] unit {unit} ({at} x {wt} -> {ot}): K={len(self.a)} (pad {self.pad}) "
                f"za={h8(self.za)} ({int(as_type(self.za, at)[()])}) zw={h8(self.zw)} "
                f"({int(as_type(self.zw, wt)[()])}) bias=0x{self.bias & 0xffffffff:08x} M0=0x{self.m0:08x} "
                f"shift={self.shift} z3={z3} q=[{qmin}, {qmax}] acc=0x{acc & 0xffffffff:08x} ({acc}, exact "
                f"sum {exact}) a[:8]={[h8(v) for v in self.a[:8]]} w[:8]={[h8(v) for v in self.w[:8]]}")


# narrowed output ranges (a few, so that the model batches well): narrow_range, ReLU-like, one-sided, tiny
NARROW = {"int8": [(-127, 127), (0, 127), (-128, -1), (-100, 50), (-3, 4), (17, 17)],
          "uint8": [(1, 255), (128, 255), (0, 127), (10, 200), (126, 133), (0, 0)]}


def out_params(rng, types, full=False):
    """(z3, qmin, qmax) per unit: mostly the full range, sometimes a narrowed one; z3 often at an end."""
    outs = []
    for _, _, ot in types:
        f = int_fmt(ot)
        lo, hi = f.min_int, f.max_int
        if not full and rng.random() < 0.2:
            lo, hi = NARROW[ot][int(rng.integers(len(NARROW[ot])))]
        z3 = int(rng.choice([lo, hi])) if rng.random() < 0.2 else int(rng.integers(lo, hi + 1))
        outs.append((z3, lo, hi))
    return outs


ENDS = (0x00, 0x7f, 0x80, 0xff)  # both ends of int8 (0x80, 0x7f) and of uint8 (0x00, 0xff)


def extreme_bits(dtype, high):
    """(value, zero point) bit patterns making ``q - z`` as large (high) or as small as ``dtype`` allows."""
    f = int_fmt(dtype)
    v, z = (f.max_int, f.min_int) if high else (f.min_int, f.max_int)
    return v & 0xff, z & 0xff


def edge_jobs(c, types, rng):
    """Requantization corners (accumulator = bias, products 0), zero points at the ends, wrap-around."""
    L = c["lanes"]
    jobs = []

    def via_bias(kind, acc, m0, shift, full=True):
        w = rng.integers(0, 256, L)
        za = int(rng.choice(ENDS))
        jobs.append(Job(kind, np.full(L, za), w, za, int(rng.integers(0, 256)), acc, m0, shift,
                        out_params(rng, types, full)))

    for acc in (1, -1, 3, -3, 5, -5, 7, -7, 2**30 + 1, -(2**30 + 1)):  # acc * 2**30 / 2**31: exactly k + 1/2
        via_bias("SRDHM tie", acc, 1 << 30, 0)
    for e in (1, 2, 3, 5, 12):  # y = acc / 2 = (2k + 1) * 2**(e - 1): a tie of the division by 2**e
        for k in (0, 1, -1, -2, 100, -101):
            via_bias("RDBPOT / single tie", (2 * k + 1) << e, 1 << 30, -e)
    for acc in (-4, -3, -2, -1, 0, 1, 2, 3, 4, 5):  # shift 30: acc * 2**30 wraps to int32
        for m0 in (1 << 30, INT32_MAX, 0x5a5a5a5b):
            via_bias("shift 30", acc, m0, 30)
    for acc in (INT32_MIN, INT32_MAX, -1, 1, 1 << 30, -(1 << 30), (1 << 30) + 1, -(1 << 30) - 1, 3 << 29):
        for m0 in (INT32_MAX, 1 << 30, (1 << 30) + 1):
            via_bias("shift -31", acc, m0, -31)
    for acc in (INT32_MIN, INT32_MAX, INT32_MIN + 1, -2, 2, 0):
        for m0 in (INT32_MAX, 1 << 30, 0):
            via_bias("shift 0", acc, m0, 0)
    via_bias("acc * 2**30 == INT32_MIN, M0 max", -2, INT32_MAX, 30)
    via_bias("acc * 2 == INT32_MIN, M0 max", -(1 << 30), INT32_MAX, 1)
    for acc in (1 << 20, -(1 << 20), 12345, -12345):
        for shift in (0, -3, 5):
            via_bias("saturation", acc, INT32_MAX, shift, full=False)
            via_bias("saturation", acc, INT32_MAX, shift, full=True)
    # zero points at the ends, the largest |a - Za| and |w - Zw|
    for za in ENDS:
        for zw in ENDS:
            a, w = rng.integers(0, 256, 4 * L), rng.integers(0, 256, 4 * L)
            a[::3], w[::2] = za ^ 0xff, zw ^ 0xff  # |a - Za| = |w - Zw| = 255
            jobs.append(Job("zero points at the ends", a, w, za, zw, int(rng.integers(-100, 100)),
                            int(rng.integers(1 << 30, 1 << 31)), -int(rng.integers(6, 14)), out_params(rng, types)))
    # wrap-around: the bias near an int32 end, products of one sign and as large as unit 0 allows
    at, wt, _ = types[0]
    for bias in (INT32_MAX, INT32_MAX - 5000, INT32_MIN, INT32_MIN + 5000, 1 << 23, -(1 << 23), 1 << 15):
        for high in (True, False):
            a, za = extreme_bits(at, True)
            w, zw = extreme_bits(wt, high)
            jobs.append(Job("accumulator wrap", np.full(3 * L, a), np.full(3 * L, w), za, zw, bias, 1 << 30,
                            -20, out_params(rng, types)))
    return jobs


def random_job(c, types, rng, K, kind="random"):
    a, w = rng.integers(0, 256, K), rng.integers(0, 256, K)
    za = int(rng.choice(ENDS)) if rng.random() < 0.3 else int(rng.integers(0, 256))
    zw = int(rng.choice(ENDS)) if rng.random() < 0.3 else int(rng.integers(0, 256))
    r = rng.random()
    bias = (int(rng.integers(INT32_MIN, INT32_MAX + 1)) if r < 0.1 else int(rng.integers(-(1 << 16), 1 << 16))
            if r < 0.7 else int(rng.integers(-64, 64)))
    r = rng.random()
    m0 = (int(rng.choice([0, 1, 1 << 30, INT32_MAX])) if r < 0.05 else int(rng.integers(0, 1 << 31)) if r < 0.15
          else int(rng.integers(1 << 30, 1 << 31)))
    job = Job(kind, a, w, za, zw, bias, m0, 0, out_params(rng, types), pad=str(rng.choice(["a", "w"])))
    if rng.random() < 0.2:
        job.shift = int(rng.integers(-31, 31))
    else:  # a shift that lands unit 0's result near the output range, so most results are not clamped
        da, dw = job.operands(types[0])
        acc = int(da @ dw) + bias
        job.shift = int(np.clip(5 - abs(acc).bit_length() + int(rng.integers(-2, 3)), -31, 30))
    return job


def long_job(c, types, rng, K):
    """One long dot product of unit 0's largest products: the sum itself passes acc_bits for long enough K."""
    a, za = extreme_bits(types[0][0], True)
    w, zw = extreme_bits(types[0][1], True)
    return Job("long K", np.full(K, a), np.full(K, w), za, zw, 0, 1 << 30, -24, out_params(rng, types, True))
