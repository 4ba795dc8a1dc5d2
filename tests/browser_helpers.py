"""Helpers for the browser tests: a JupyterLab server in its own process group, and headless Chromium.

The server gets throw-away Jupyter config, runtime, data, settings and workspace folders, a token,
127.0.0.1 only, and no autosave; requests that would leave the machine go to a proxy that refuses them. Its configuration is written as files
(``JUPYTER_CONFIG_DIR``), so the same setup serves a server we start ourselves and the one that
``make lab`` starts. Chromium is Debian's package driven by Playwright; no browser is downloaded.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "LabServer",
    "chromium_page",
    "execute_in_kernel",
    "free_port",
    "lab_env",
    "new_token",
    "run_all_cells",
    "started_lab",
]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REFUSE = "http://127.0.0.1:9"
"""A proxy address nothing listens on: any request that leaves loopback fails at once."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))


def lab_env(
    tmp: Path,
    *,
    port: int,
    token: str,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    folders: Sequence[str] = ("",),
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Environment and config files for a private JupyterLab on 127.0.0.1:``port``.

    ``settings`` maps plugin ids (``"@jupyterlab/apputils-extension:notification"``) to user settings;
    without it the server shows whatever defaults its installation has. Autosave is always off.
    ``folders`` are the served folders whose notebooks the test opens: the checkpoint copy that
    JupyterLab makes on opening one goes under ``tmp/checkpoints``, not beside the notebook.
    """
    config, user = tmp / "config", tmp / "settings"
    server = {
        "ServerApp": {
            "ip": "127.0.0.1",
            "port": port,
            "port_retries": 0,
            "open_browser": False,
            "allow_root": True,  # containers and CI jobs often run as root
        },
        "IdentityProvider": {"token": token},
        # Opening a notebook makes a checkpoint copy: keep it out of the served folder.
        "ContentsManager": {"checkpoints_kwargs": {"root_dir": str(tmp / "checkpoints")}},
    }
    lab = {"LabApp": {"extension_manager": "readonly"}}  # no extension search on PyPI
    for folder in folders:  # jupyter_server falls back to the system temp folder when one is missing
        (tmp / "checkpoints" / folder).mkdir(parents=True, exist_ok=True)
    _write_json(config / "jupyter_server_config.json", {**server, **lab})
    _write_json(config / "jupyter_lab_config.json", lab)
    wanted = {"@jupyterlab/docmanager-extension:plugin": {"autosave": False}, **(settings or {})}
    for plugin, values in wanted.items():
        package, name = plugin.split(":")
        _write_json(user / package / f"{name}.jupyterlab-settings", values)
    env = dict(os.environ if base is None else base)
    for var in ("COURSE_PROVIDER", "COURSE_MODEL", "COURSE_RECORDINGS", "JUPYTER_PATH", "JUPYTER_TOKEN"):
        env.pop(var, None)
    env.update(
        {
            "JUPYTER_CONFIG_DIR": str(config),
            "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
            "JUPYTER_DATA_DIR": str(tmp / "data"),
            "JUPYTERLAB_SETTINGS_DIR": str(user),
            "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
            "JUPYTER_PLATFORM_DIRS": "1",
            "BROWSER": "true",
            "HTTP_PROXY": REFUSE,
            "HTTPS_PROXY": REFUSE,
            "http_proxy": REFUSE,
            "https_proxy": REFUSE,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "HF_HUB_OFFLINE": "1",
        }
    )
    return env


@dataclass
class LabServer:
    """A running JupyterLab: its URL, token, process and log file."""

    port: int
    token: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        """Base URL, no trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    def api(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """Call the Jupyter REST API and decode its JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with _no_proxy_opener().open(request, timeout=30) as response:
            text = response.read().decode()
        return json.loads(text) if text else None

    def get(self, path: str) -> tuple[int, str]:
        """GET a page with the token; the status and the body."""
        request = urllib.request.Request(
            f"{self.url}{path}", headers={"Authorization": f"token {self.token}"}
        )
        try:
            with _no_proxy_opener().open(request, timeout=30) as response:
                return response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            return exc.code, ""

    def setting(self, plugin: str) -> dict[str, Any]:
        """A plugin's effective settings (defaults, overrides and user settings merged)."""
        answer = self.api("GET", f"/lab/api/settings/{plugin}")
        user = answer.get("settings") or {}
        defaults = {k: v.get("default") for k, v in answer["schema"].get("properties", {}).items()}
        return {**defaults, **user}

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's log, for failure messages."""
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else "(no log)"


def _no_proxy_opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left of it."""
    for sig, wait in ((signal.SIGINT, 5), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait)
        if process.poll() is not None:
            break
    with contextlib.suppress(ProcessLookupError):  # kernels left in the group
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def started_lab(
    command: Sequence[str], *, env: Mapping[str, str], cwd: Path, port: int, token: str, log: Path
) -> Iterator[LabServer]:
    """Start ``command`` in a new process group, wait until it answers, and kill the group afterwards."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = LabServer(port, token, process, log)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {process.returncode}:\n{server.log_tail()}")
            with contextlib.suppress(OSError, ValueError):
                if server.api("GET", "/api/status") is not None:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not answer within 90 s:\n{server.log_tail()}")
            time.sleep(0.3)
        yield server
    finally:
        _stop_group(process)


@contextlib.contextmanager
def chromium_page(width: int = 1400, height: int = 900) -> Iterator[Any]:
    """A Playwright page in headless Debian Chromium; the browser is closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
            page = context.new_page()
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


def run_all_cells(page: Any) -> None:
    """Run → Run All Cells from JupyterLab's menu bar."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()


async def _execute(server: LabServer, kernel_id: str, code: str, timeout: float) -> dict[str, Any]:
    from tornado.websocket import websocket_connect

    session, msg_id = uuid.uuid4().hex, uuid.uuid4().hex
    url = f"ws://127.0.0.1:{server.port}/api/kernels/{kernel_id}/channels?token={server.token}"
    conn = await asyncio.wait_for(websocket_connect(url), timeout)
    header = {"msg_id": msg_id, "username": "test", "session": session, "msg_type": "execute_request"}
    request = {
        "header": {**header, "version": "5.3", "date": ""},
        "parent_header": {},
        "metadata": {},
        "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {}},
        "channel": "shell",
        "buffers": [],
    }
    await conn.write_message(json.dumps(request))
    result: dict[str, Any] = {"stdout": "", "stderr": "", "error": None, "reply": None, "idle": False}
    try:
        while not (result["idle"] and result["reply"]):
            raw = await asyncio.wait_for(conn.read_message(), timeout)
            if raw is None:
                raise RuntimeError("the kernel websocket closed")
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                result[content["name"]] += content["text"]
            elif kind == "error":
                result["error"] = f"{content['ename']}: {content['evalue']}"
            elif kind == "execute_reply":
                result["reply"] = content["status"]
            elif kind == "status" and content["execution_state"] == "idle":
                result["idle"] = True
    finally:
        conn.close()
    return result


def execute_in_kernel(
    server: LabServer, code: str, *, kernel_id: str | None = None, timeout: float = 60
) -> dict[str, Any]:
    """Run ``code`` in a kernel over the server's websocket: a running one, or a new one shut down after.

    Returns ``stdout``, ``stderr``, ``error`` and the ``reply`` status. Runs its own event loop in a
    thread, so it also works beside Playwright's sync API (which owns the main thread's loop).
    """
    owned = kernel_id is None
    if kernel_id is None:
        kernel_id = server.api("POST", "/api/kernels", {"name": "python3"})["id"]
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(asyncio.run, _execute(server, kernel_id, code, timeout))
            return future.result(timeout=timeout + 30)
    finally:
        if owned:
            with contextlib.suppress(OSError):
                server.api("DELETE", f"/api/kernels/{kernel_id}")


def new_token() -> str:
    """A random server token."""
    return secrets.token_hex(16)
