"""The Procfile's lines, run as a deploy runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def procfile_line(kind: str) -> str:
    """The command of the Procfile's `kind` process type."""
    return next(text.split(":", 1)[1].strip() for text in (ROOT / "Procfile").read_text().splitlines()
                if text.startswith(f"{kind}:"))


def run_release(environ: dict[str, str], log: Path) -> None:
    """The Procfile's `release` line (the schema migrations), once, as a deploy runs it."""
    env = {**os.environ, **environ,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    with log.open("ab") as out:
        subprocess.run(["bash", "-c", procfile_line("release")], cwd=ROOT, env=env, stdout=out,
                       stderr=subprocess.STDOUT, check=True, timeout=60)
