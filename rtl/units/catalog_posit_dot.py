"""The posit dot-product unit (a quire, rounded once), registered with its options."""

from .registry import Option, Unit, register

__all__ = []


def _posit_dot(n, es, n_out, es_out, lanes, quire, max_terms, addend, stages, dsp):
    from .posit_dot import PositDot
    return PositDot(n=n, es=es, n_out=n_out, es_out=es_out, lanes=lanes, quire=quire, max_terms=max_terms,
                    addend=addend, stages=stages, dsp=dsp)


register(Unit(
    name="posit-dot",
    summary="posit(n, es) fused dot product: L pairs per beat summed exactly in a quire, rounded once into "
            "posit(n_out, es_out), NaR propagating",
    description="The Posit Standard 2022's fdp as a stream unit: every product placed at its absolute position "
                "in a two's-complement quire (16n bits, or the narrowest exact for --max-terms), the beats "
                "accumulated until last, one rounding (ties to even on the bit string, never to 0 or NaR) through "
                "the converters' posit pack; an optional posit(n_out, es_out) addend on the first beat.",
    build=_posit_dot,
    options=(
        Option("n", "int", "operand posit width", 8, range=(3, 32), metavar="N"),
        Option("es", "int", "operand exponent bits (2: the 2022 standard)", 2, range=(0, 4), metavar="ES"),
        Option("n_out", "int", "result (and addend) posit width (default 2n, at most 32)", None, range=(3, 32),
               metavar="N"),
        Option("es_out", "int", "result exponent bits (default es)", None, range=(0, 4), metavar="ES"),
        Option("lanes", "int", "products per beat", 4, range=(1, 16), metavar="L"),
        Option("quire", "choice", "standard (2022: 16n bits, 2**31 - 1 products) or exact (the narrowest exact "
               "for --max-terms products)", "standard", choices=("standard", "exact"), metavar="Q"),
        Option("max_terms", "int", "products per dot product an exact quire holds", 4096, range=(1, (1 << 31) - 1),
               metavar="T"),
        Option("addend", "bool", "a posit(n_out, es_out) addend c, read on each dot product's first beat",
               False),
        Option("stages", "int", "registers in the rounding path (quire -> posit)", 2, range=(0, 5), metavar="S"),
        Option("dsp", "choice", "significand multipliers: infer, or ecp5 (instantiated MULT18X18D; ECP5 only)",
               "infer", choices=("infer", "ecp5"), metavar="D"),
    ),
    # the targets (4 lanes, and a 1-lane quire MAC, posit(8,2) -> posit(16,2), exact quire) with the
    # registers that met the iCE40 frequency target; a posit16 unit with an addend
    examples=(dict(lanes=4, quire="exact", stages=4), dict(lanes=1, quire="exact", stages=4),
              dict(lanes=2, n=16, addend=True)),
    targets=lambda options: ("ecp5",) if options.get("dsp") == "ecp5" else None,
    docs="docs/posit_dot.md",
))
