"""Proofs of the generated converters against specifications that come from neither golden nor rtl.

``fmtforge prove convert``: the converter's Verilog becomes SMT through Yosys (``write_smt2``), and a solver
(z3 by default) looks for an input whose RTL outputs differ from the specification's (``specs/``).
Every counterexample is replayed in simulation and in golden before it is reported.
"""
