"""``python -m fmtforge.verif.support.waves`` (``make waves``): write docs/waves/ from simulation."""

from fmtforge.verif.support.waves.units import main

main()
