"""Regenerate binder/requirements.txt: install the package into a fresh venv and freeze its closure.

    python scripts/pin_binder.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = (
    "# Pinned third-party packages for Binder: the closure of `pip install .` (course_lib's core dependencies).\n"
    "# Regenerate with: python scripts/pin_binder.py\n"
)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip"]
        subprocess.run([*pip, "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "install", "--quiet", str(ROOT)], check=True)
        frozen = subprocess.run(
            [*pip, "freeze", "--exclude", "course-lib"], check=True, capture_output=True, text=True
        ).stdout
    (ROOT / "binder" / "requirements.txt").write_text(HEADER + frozen)
    print(f"wrote {len(frozen.splitlines())} pins to binder/requirements.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
