"""The one file writer of the command line: a file is written whole or not at all.

Every command that writes (``generate``, ``verilog-all``, ``plot``, ``atlas``, the reports of ``sweep``,
``regress``, ``prove``) goes through :func:`write_output`: the data goes into a temporary file beside the target,
then the temporary file is renamed over it, so an interrupted or failed write never leaves a partial file.
"""

import os
import sys
import tempfile
from pathlib import Path

from .options import CliError

__all__ = ["write_output"]


def write_output(data, path, what="output"):
    """Write ``data`` (str or bytes) to ``path`` whole or not at all; ``-`` or None writes text to stdout.

    The file gets the permissions a plain ``open`` would give it (mkstemp's 0600 widened by the umask). An
    unwritable place raises :class:`CliError` naming ``what`` (the option that gave the path)."""
    if path in (None, "-"):
        if isinstance(data, bytes):
            raise CliError(f"{what} must be a file path for binary output, not stdout")
        sys.stdout.write(data)
        sys.stdout.flush()
        return
    p = Path(path)
    if p.is_dir():
        raise CliError(f"{what} must be a file path, not the directory {str(path)!r}")
    tmp = None
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        os.replace(tmp, p)
    except OSError as e:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise CliError(f"{what} {str(path)!r} cannot be written: {e.strerror or e}") from None
    print(f"wrote {p}", file=sys.stderr)
