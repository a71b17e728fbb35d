"""Parameter checks shared by every floor (golden, rtl, the CLI): one wording for every message.

Each check returns the validated value or raises ``ValueError`` with a message that names the parameter and
what it allows, e.g. ``exp_bits must be an integer in 1..15, not 0``. The CLI prints such a message as its one
line of error.
"""

import numpy as np

__all__ = ["check_bool", "check_choice", "check_int", "check_ints", "show_value"]


def check_int(name, value, lo, hi):
    """``value`` as an int, unless it is not an integer in ``lo..hi`` (bools are not integers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer in {lo}..{hi}, not {value!r}")
    return int(value)


def check_bool(name, value):
    """``value``, unless it is not ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, not {value!r}")
    return value


def check_choice(name, value, allowed):
    """``value``, unless it is not one of the strings ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def show_value(v):
    """A short repr of a scalar or 0-d array, for error messages."""
    v = np.asarray(v) if isinstance(v, np.generic) else v
    return repr(v.item() if isinstance(v, np.ndarray) and v.ndim == 0 else v)


def check_ints(name, value, lo, hi):
    """``value`` (an integer scalar or array) as int64, unless an element is not an integer in ``lo..hi``."""
    a = np.asarray(value)
    if a.dtype.kind not in "iu" or a.dtype == bool:
        raise ValueError(f"{name} must be an integer in {lo}..{hi}, not {show_value(value)}")
    if a.size:
        bad = (a < lo) | (a > hi)
        if np.any(bad):
            raise ValueError(f"{name} must be an integer in {lo}..{hi}, not {show_value(a[bad].flat[0])}")
    return a.astype(np.int64)
