"""Regenerate binder/requirements.txt: install the package into a fresh venv and freeze its closure.

    python scripts/pin_binder.py

Binder installs these pins, then ``binder/postBuild`` installs the course itself with ``--no-deps``, so
the pins must cover everything a lesson imports: the core dependencies and the extras in ``EXTRAS``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXTRAS: tuple[str, ...] = ()
"""Optional extras the lessons need on Binder (the ``local`` model server is left out: too big)."""


def header() -> str:
    """The comment block at the top of requirements.txt."""
    target = f".[{','.join(EXTRAS)}]" if EXTRAS else "."
    return (
        f"# Pinned third-party packages for Binder: the closure of `pip install {target}`.\n"
        "# Regenerate with: python scripts/pin_binder.py\n"
    )


def main() -> int:
    target = f"{ROOT}[{','.join(EXTRAS)}]" if EXTRAS else str(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip"]
        subprocess.run([*pip, "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "install", "--quiet", target], check=True)
        frozen = subprocess.run(
            [*pip, "freeze", "--exclude", "course-lib"], check=True, capture_output=True, text=True
        ).stdout
    (ROOT / "binder" / "requirements.txt").write_text(header() + frozen)
    print(f"wrote {len(frozen.splitlines())} pins to binder/requirements.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
