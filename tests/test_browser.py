"""Lessons in a real browser: JupyterLab in headless Chromium renders a widget, and the widget responds.

nbval and papermill have no front end, so only a browser can show that ipywidgets render and that
moving a slider reruns the lesson's function. The second test starts the server the way ``make lab``
does and checks what a learner gets: the setup lesson served with the course's JupyterLab settings, and
a kernel on the replay provider.
Screenshots go to ``artifacts/browser/`` (git-ignored); ``docs/screenshot-lesson.png`` is a copy of
``lesson-02-window-explorer.png``.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import sys
import time
from pathlib import Path

import pytest
from browser_helpers import (
    CHROMIUM,
    chromium_page,
    execute_in_kernel,
    free_port,
    lab_env,
    new_token,
    run_all_cells,
    started_lab,
)

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts" / "browser"
COURSE_SETTINGS = json.loads((ROOT / "binder" / "jupyterlab-overrides.json").read_text())
"""The JupyterLab defaults the course installs (Binder's postBuild; ``make lab``)."""
LESSON = "02_api_request.ipynb"
"""The lesson whose window explorer (two IntSliders over a text report and a plot) the test drives."""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (make browser installs it)"),
    pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="process groups and Debian's chromium: Linux only"
    ),
]


def _lesson_page(page, server, name: str) -> None:
    """Open a notebook and wait until its cells are rendered and its kernel is idle."""
    page.goto(f"{server.url}/lab/tree/{name}?token={server.token}")
    page.wait_for_function("() => document.querySelectorAll('.jp-Notebook .jp-Cell').length > 3")
    page.locator(".jp-StatusBar-Widget", has_text="| Idle").first.wait_for()


def _wait_until_all_cells_ran(page, timeout_s: float = 120) -> None:
    """Run All has finished when no cell prompt shows ``[*]`` and the kernel reports Idle."""
    page.wait_for_function(
        """() => {
            const prompts = [...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')];
            const busy = prompts.some(p => p.textContent.includes('*'));
            const status = [...document.querySelectorAll('.jp-StatusBar-Widget')]
                .some(w => w.textContent.includes('| Idle'));
            return !busy && status;
        }""",
        timeout=timeout_s * 1000,
    )


def _screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
    return path


def _png_colours(src: str | None) -> int:
    """Distinct RGBA values in a ``data:image/png;base64,…`` image: 1 means a blank figure."""
    import matplotlib.image as mpimg
    import numpy as np

    assert src and src.startswith("data:image/png;base64,"), f"not an inline PNG: {str(src)[:60]}"
    pixels = mpimg.imread(io.BytesIO(base64.b64decode(src.split(",", 1)[1])), format="png")
    return len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0))


def test_lesson_slider_reruns_its_output_in_jupyterlab(tmp_path: Path) -> None:
    pytest.importorskip("playwright", reason="the browser tests need the playwright package (dev extra)")
    from playwright.sync_api import expect

    started = time.perf_counter()
    work = tmp_path / "lessons"
    work.mkdir()
    for lesson in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        shutil.copy(lesson, work / lesson.name)  # copies: the stored outputs stay as they are
    port, token = free_port(), new_token()
    env = lab_env(tmp_path / "jupyter", port=port, token=token, settings=COURSE_SETTINGS)
    env["COURSE_PROVIDER"] = "replay"
    command = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={work}"]
    with (
        started_lab(command, env=env, cwd=work, port=port, token=token, log=tmp_path / "lab.log") as server,
        chromium_page() as page,
    ):
        _lesson_page(page, server, LESSON)
        run_all_cells(page)
        box = page.locator(".widget-vbox", has=page.locator(".widget-slider", has_text="window (msgs)")).first
        slider = box.locator(".widget-slider", has_text="window (msgs)")
        output, plot = box.locator(".widget-output"), box.locator(".widget-output img")
        expect(output).to_contain_text("window: last", timeout=120_000)
        _wait_until_all_cells_ran(page)

        errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        assert errors.count() == 0, f"Run All left errors or stderr: {errors.all_inner_texts()[:3]}"
        expect(plot).to_have_count(1)

        box.evaluate("el => el.closest('.jp-Cell').scrollIntoView({block: 'start'})")
        handle = slider.locator(".noUi-handle")
        size = int(float(handle.get_attribute("aria-valuenow")))
        first_text, first_plot = output.text_content(), plot.get_attribute("src")
        assert f"window: last {size} messages" in first_text
        assert _png_colours(first_plot) > 100, "the widget's first plot is blank"

        handle.focus()
        page.keyboard.press("ArrowLeft")
        expect(handle).to_have_attribute("aria-valuenow", f"{size - 1}.0")
        expect(slider.locator(".widget-readout")).to_have_text(str(size - 1))
        expect(output).to_contain_text(f"window: last {size - 1} messages")
        expect(plot).to_have_count(1)
        expect(plot).not_to_have_attribute("src", first_plot)
        smaller_text, smaller_plot = output.text_content(), plot.get_attribute("src")
        # The smaller window drops old messages from the last request; the whole history sent them all.
        assert "dropped" not in first_text and "dropped" in smaller_text
        assert smaller_text.count("\n  sent ") < first_text.count("\n  sent ")
        assert _png_colours(smaller_plot) > 100, "the plot redrawn after the slider moved is blank"

        page.keyboard.press("ArrowRight")  # back where it started: the same report and the same picture
        expect(output).to_contain_text(f"window: last {size} messages")
        expect(plot).to_have_attribute("src", first_plot)
        assert output.text_content() == first_text

        page.keyboard.press("ArrowLeft")  # the state shown in the screenshot
        expect(output).to_contain_text(f"window: last {size - 1} messages")
        expect(plot).to_have_attribute("src", smaller_plot)
        page.wait_for_function(
            "el => [...el.querySelectorAll('img')].every(i => i.complete && i.naturalWidth > 0)",
            arg=output.element_handle(),
        )
        box.evaluate("el => el.closest('.jp-Cell').scrollIntoView({block: 'start'})")
        page.mouse.move(0, page.viewport_size["height"] - 1)  # no hover highlight in the picture
        page.wait_for_timeout(500)
        _screenshot(page, "lesson-02-window-explorer.png")
    print(f"browser lesson test: {time.perf_counter() - started:.0f} s")


def test_make_lab_serves_the_setup_lesson_on_replay(tmp_path: Path) -> None:
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    if not (ROOT / ".venv" / "bin" / "jupyter").exists():
        pytest.skip("make lab runs .venv/bin/jupyter, and .venv has none (run `make install` first)")
    started = time.perf_counter()
    port, token = free_port(), new_token()
    # COURSE_PROVIDER unset: make lab sets it. The repository's notebooks/ is served: nothing may land there.
    env = lab_env(tmp_path / "jupyter", port=port, token=token, folders=("notebooks",))
    # `-o` keeps make from reinstalling the package first: this test checks the launch, not the install.
    command = ["make", "--no-print-directory", "-o", ".venv/.installed-core", "lab", f"PORT={port}"]
    with started_lab(command, env=env, cwd=ROOT, port=port, token=token, log=tmp_path / "lab.log") as server:
        listing = server.api("GET", "/api/contents/notebooks?content=1")
        names = {item["name"]: item["type"] for item in listing["content"]}
        assert names.get("00_setup.ipynb") == "notebook", f"the server's notebooks/ holds {sorted(names)}"
        status, html = server.get("/lab/tree/notebooks/00_setup.ipynb")
        assert status == 200 and "jupyter-config-data" in html
        for plugin, wanted in COURSE_SETTINGS.items():
            got = {key: server.setting(plugin).get(key) for key in wanted}
            assert got == wanted, (
                f"make lab's JupyterLab has {plugin} = {got}, not the course's {wanted}: install "
                "binder/jupyterlab-overrides.json as .venv/share/jupyter/lab/settings/overrides.d/course-lib.json"
            )

        probe = (
            "import json, os\n"
            "from course_lib import provider_config\n"
            "print(json.dumps({'env': os.environ.get('COURSE_PROVIDER'), 'provider': provider_config()['provider'],"
            " 'cwd': os.getcwd()}))"
        )
        result = execute_in_kernel(server, probe)
        assert result["reply"] == "ok", result
        seen = json.loads(result["stdout"].strip().splitlines()[-1])
        assert seen["env"] == "replay" and seen["provider"] == "replay", seen
        assert Path(seen["cwd"]).resolve() == ROOT.resolve()

        with chromium_page() as page:
            _lesson_page(page, server, "notebooks/00_setup.ipynb")
            tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
            assert tab.inner_text().strip() == "00_setup.ipynb"
            assert page.locator(".jp-Notebook .jp-MarkdownCell h1").count() >= 1
            page.wait_for_timeout(1500)  # JupyterLab asks about news a moment after start, unless turned off
            assert page.locator(".jp-Dialog").count() == 0, "a dialog covers the lesson on first start"
            toasts = page.locator(".Toastify__toast")
            assert toasts.count() == 0, f"a notification covers the lesson: {toasts.all_inner_texts()}"
            _screenshot(page, "make-lab-00-setup.png")
    print(f"make lab test: {time.perf_counter() - started:.0f} s")
