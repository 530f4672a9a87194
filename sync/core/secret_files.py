"""Writing a secret file (a private key, the district key, a gate's HQ token): the one way both programs do it.

The file is readable and writable by its owner only from its first byte: its data goes into a temporary file in
the same folder, created with mode 0600 (never a moment readable by others, whatever the umask), flushed to
disk, then put in place in one step, so a crash leaves either the old file or the new one, never half of one.
Without `overwrite`, an existing file is never replaced: the step that puts it in place is a hard link, which
fails when the name is taken, so two processes cannot both create it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

OWNER_ONLY = 0o600


def write_secret(path: Path, data: bytes, *, overwrite: bool = False) -> None:
    """Write `data` to `path`, owner-only and atomically (see the module docstring). Raises FileExistsError,
    writing nothing, when the file exists and `overwrite` is false."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), OWNER_ONLY)  # exactly 0600, even under an unusual umask
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if overwrite:
            os.replace(temp, path)
        else:
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)
