"""Parameter checks shared by the generators' entry points (messages name the parameter and its range)."""

__all__ = ["check_posit_params"]


def check_posit_params(n, es):
    for name, value, lo, hi in (("n", n, 3, 64), ("es", es, 0, 4)):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ValueError(f"{name} must be an integer in {lo}..{hi}, not {value!r}")
