"""``python -m fmtforge.rtl.cli``: the ``fmtforge`` command."""

import sys

from .main import main

sys.exit(main())
