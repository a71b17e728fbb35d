"""Handshake proofs of the stream units (``fmtforge prove handshake``): the generic Amaranth formal harness
(:mod:`.harness`), one declaration per unit (:mod:`.units`), Yosys ``sat -tempinduct`` (:mod:`.run`), the
command's lines and table (:mod:`.report`) and broken toy streams for the harness' own tests (:mod:`.toys`).
docs/prove.md, "Handshake proofs"."""
