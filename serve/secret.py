"""SECRET_KEY for one machine: generated once into instance/ and shared by every process."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path


def shared_secret_key(instance: Path) -> str:
    """Read instance/secret_key, creating it (0600) if missing. Atomic: the key is
    written whole under a temporary name and linked into place, so two processes
    starting together end up with the same key and nobody reads half a file."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=instance, prefix=".secret_key.")  # mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process won the race: use its key
        finally:
            os.unlink(tmp)
    return path.read_text().strip()
