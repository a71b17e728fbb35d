"""Comparing a batch run with the golden model, and saying exactly what differs when it does.

A mismatch report names the unit, then for each differing vector the input, the expected and the obtained
outputs in hex with their decoded values, the flags by name and the ``rand`` input, and finally the command
that reproduces the failure.
"""

import os
import shlex

import numpy as np

from fmtforge import golden

from fmtforge.verif.support.vectors.patterns import describe, seed

__all__ = ["assert_equal", "flag_text", "mismatches"]


def _ne(a, b):
    """Element-wise ``a != b`` for pattern arrays of any dtype (object arrays hold > 64-bit patterns)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"cannot compare {a.shape[0] if a.ndim else a} vectors with {b.shape}")
    if a.dtype == object or b.dtype == object:
        return np.fromiter((int(x) != int(y) for x, y in zip(a, b)), dtype=bool, count=len(a))
    return a != b


def mismatches(got, want):
    """Indices of the vectors where ``got`` and ``want`` differ; each is ``(outputs, flags)``. Flags are
    compared when ``got`` has them (a unit without a flags port returns None there)."""
    (o, f), (wo, wf) = got, want
    bad = _ne(o, wo)
    if f is not None:
        if wf is None:
            raise ValueError("the unit has flags but the expectation has none")
        bad |= _ne(f, wf)
    return np.flatnonzero(bad)


def flag_text(flags):
    """``NX|UF (0b1100)``: the flags set, by golden's names, then the raw bits."""
    flags = int(flags)
    names = [name for bit, name in sorted(golden.FLAG_NAMES.items(), reverse=True) if flags & bit]
    known = sum(golden.FLAG_NAMES)
    names += [f"bit{k}" for k in range(flags.bit_length()) if flags >> k & 1 and not known >> k & 1]
    return f"{'|'.join(names) or '-'} (0b{flags:b})"


def _fmt(fmt, bits):
    if fmt is None:
        return f"0x{int(bits):x}"
    try:
        return describe(fmt, bits)
    except Exception as exc:  # a pattern the decoder rejects is itself worth seeing, not a second failure
        return f"0x{int(bits):x} (undecodable: {exc})"


def _unit_info(unit, src, dst):
    name = getattr(unit, "top", None) or getattr(unit, "name", None) or (unit if isinstance(unit, str) else "unit")
    return name, src if src is not None else getattr(unit, "src", None), dst if dst is not None else getattr(
        unit, "dst", None)


def reproduce_command():
    """The command that reruns the current pytest test with the same seed (None outside pytest)."""
    current = os.environ.get("PYTEST_CURRENT_TEST")
    if not current:
        return None
    nodeid = current.rsplit(" (", 1)[0]
    return f"FMTFORGE_SEED={seed()} .venv/bin/pytest -p no:xdist {shlex.quote(nodeid)}"


def report(got, want, bad, *, inputs, unit=None, src=None, dst=None, rand=None, reproduce=None, limit=8,
           label=None):
    """The text of a mismatch report for the vectors ``bad`` (see the module docstring)."""
    name, src, dst = _unit_info(unit, src, dst)
    (o, f), (wo, wf) = got, want
    head = f"{name}{' (' + label + ')' if label else ''}: {len(bad)} of {len(o)} vectors differ"
    lines = [head + f" (seed {seed()}):"]
    for k in bad[:limit]:
        line = f"  i = {_fmt(src, inputs[k])}"
        if rand is not None:
            line += f", rand = 0x{int(rand[k]):x}"
        line += f": expected {_fmt(dst, wo[k])}"
        if f is not None:
            line += f" flags {flag_text(wf[k])}"
        line += f"; got {_fmt(dst, o[k])}"
        if f is not None:
            line += f" flags {flag_text(f[k])}"
        lines.append(line)
    if len(bad) > limit:
        lines.append(f"  ... and {len(bad) - limit} more")
    lines.append(f"reproduce: {reproduce or reproduce_command() or '(run the test that called assert_equal)'}")
    return "\n".join(lines)


def assert_equal(got, want, *, inputs, unit=None, src=None, dst=None, rand=None, reproduce=None, limit=8,
                 label=None):
    """Raise AssertionError with a decoded report when ``got`` and ``want`` (each ``(outputs, flags)``) differ.

    Parameters
    ----------
    got, want : tuple
        ``(outputs, flags)``; ``got``'s flags None (a unit without a flags port) compares outputs only.
    inputs : array
        The input patterns (reported in hex and decoded as ``src``).
    unit : component, build.BatchUnit or str, optional
        Named in the report; its ``src``/``dst`` formats decode the patterns unless ``src``/``dst`` are given.
    rand : array, optional
        The stochastic rounding input, reported per vector.
    reproduce : str, optional
        The command that reproduces the failure; by default the current pytest test with ``FMTFORGE_SEED``.
    limit : int
        How many differing vectors to list.
    label : str, optional
        Which simulator or vector set, for the report's first line.
    """
    bad = mismatches(got, want)
    if len(bad):
        raise AssertionError(report(got, want, bad, inputs=inputs, unit=unit, src=src, dst=dst, rand=rand,
                                    reproduce=reproduce, limit=limit, label=label))
