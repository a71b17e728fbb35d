"""fmtforge generators: Amaranth components that write synthesizable Verilog.

Rooms: :mod:`.formats` (raw form, rounding, unpack and pack per format family), :mod:`.units` (the units and
their registry), :mod:`.flow` (Verilog writer, lint, FPGA synthesis; knows no registry), :mod:`.cli`.
"""
