"""Inspect's log viewer (`inspect view`) renders the lesson's eval log in headless Chromium.

The log is written offline by the lesson's task on replay; the viewer is served on 127.0.0.1 and the
page must list the run and show its scores and samples. With ``COURSE_UPDATE_SCREENSHOTS=1`` the test
also refreshes the lesson's screenshot ``docs/screenshot-inspect-view.png``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser_helpers import CHROMIUM, chromium_page, free_port

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "docs" / "screenshot-inspect-view.png"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (make browser installs it)"),
    pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="process groups and Debian's chromium: Linux only"
    ),
]


def _write_log(log_dir: Path) -> str:
    from inspect_ai import eval as inspect_eval

    from course_lib.evals.tasks import name_extraction

    (log,) = inspect_eval(
        name_extraction(version="2.0.0", epochs=5, limit=8),
        model="course/replay/SmolLM2-135M-Instruct",
        model_args={"recordings": "11_evaluation"},
        log_dir=str(log_dir),
        display="none",
        log_level="error",
    )
    assert log.status == "success"
    return log.eval.task


@contextlib.contextmanager
def _viewer(log_dir: Path, port: int, log: Path):
    inspect = shutil.which("inspect", path=str(Path(sys.executable).parent)) or "inspect"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [inspect, "view", "start", "--log-dir", str(log_dir), "--host", "127.0.0.1", "--port", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"},
        )
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()[-2000:]
            with contextlib.suppress(OSError):
                if opener.open(f"http://127.0.0.1:{port}/", timeout=2).status == 200:
                    break
            assert time.monotonic() < deadline, (
                "inspect view did not answer within 60 s:\n" + log.read_text()[-2000:]
            )
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/"
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
            if process.poll() is not None:
                break


def test_the_log_viewer_renders_the_lessons_eval(tmp_path: Path) -> None:
    task = _write_log(tmp_path / "logs")
    with (
        _viewer(tmp_path / "logs", free_port(), tmp_path / "view.log") as url,
        chromium_page(1400, 860) as page,
    ):
        page.goto(url)
        page.get_by_text(task).first.wait_for(timeout=60_000)
        page.get_by_text(task).first.click()
        page.get_by_text("exact_json").first.wait_for(timeout=60_000)
        page.get_by_text("name-01").first.wait_for(timeout=60_000)
        body = page.inner_text("body")
        assert "exact_json" in body and "name_included" in body, body[:2000]
        if os.environ.get("COURSE_UPDATE_SCREENSHOTS") == "1":
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
