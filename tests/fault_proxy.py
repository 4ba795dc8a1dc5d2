"""A fault-injecting HTTP proxy and a fast fake model server, both on 127.0.0.1, for the fault tests.

``FakeUpstream`` answers ``POST /v1/chat/completions`` like an OpenAI-compatible server: the answer is
``"echo: "`` plus the last user message, as JSON or as a server-sent-event stream (chunked, with a
finish reason, usage when asked for, and ``[DONE]``). ``FaultProxy`` sits between a client and any
upstream (the fake, or the real local model server) and, per request, either forwards it or injects
a fault. Which fault is decided by a plan registered for a case id the prompt carries
(``[case ID]``): the k-th attempt of that case gets the k-th fault of its plan, then ``ok``.

Faults: ``429s`` / ``429date`` / ``429ms`` / ``429long`` (429 with ``retry-after: 1``, an HTTP date 2 s
ahead, ``retry-after-ms: 150``, ``retry-after: 86400``), ``500``, ``503``, ``400``, ``404``, ``422``,
``408``, ``409``, ``drop`` (the connection closes before any answer text: half a JSON body, or a stream
with no event), ``dropmid`` (closes after the first piece of text), ``hang`` (no answer until well past
the client's timeout, then close), ``truncated`` (a JSON body cut short, or a stream that ends cleanly
without its finish reason and ``[DONE]``), ``empty`` (an empty 200), ``malformed`` (a 200 that is not
JSON) and ``notchat`` (valid JSON that is not a chat completion). Every loop is bounded and only
loopback addresses are used.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections import Counter, defaultdict
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FAULT_KINDS", "FakeUpstream", "FaultProxy", "echo_answer"]

FAULT_KINDS = (
    "ok",
    "429s",
    "429date",
    "429ms",
    "429long",
    "500",
    "503",
    "400",
    "404",
    "422",
    "408",
    "409",
    "drop",
    "dropmid",
    "hang",
    "truncated",
    "empty",
    "malformed",
    "notchat",
)
CASE = re.compile(r"\[case ([^\]\s]+)\]")


def echo_answer(prompt: str) -> str:
    """What the fake upstream answers to ``prompt``."""
    return f"echo: {prompt}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # a burst of parallel clients must not wait on the listen backlog


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep the test output clean
        pass

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {"content-type": "application/json"}).items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _chunked_head(self, status: int = 200, content_type: str = "text/event-stream") -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    def _end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


# --------------------------------------------------------------------------- the fake model server


class _UpstreamHandler(_Handler):
    server: _UpstreamServer

    def do_POST(self) -> None:
        body = json.loads(self._body() or b"{}")
        self.server.requests += 1
        prompt = str(body["messages"][-1]["content"])
        text = echo_answer(prompt)
        model = body.get("model", "fake-model")
        usage = {"prompt_tokens": len(prompt.split()) + 3, "completion_tokens": len(text.split())}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if not body.get("stream"):
            answer = {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": 0,
                "model": model,
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                ],
                "usage": usage,
            }
            self._send(200, json.dumps(answer).encode())
            return
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": model}
        pieces = [
            text[: len(text) // 3],
            text[len(text) // 3 : 2 * len(text) // 3],
            text[2 * len(text) // 3 :],
        ]
        events = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
        events += [{**base, "choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces]
        events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append({**base, "choices": [], "usage": usage})
        self._chunked_head()
        for event in events:
            self._chunk(f"data: {json.dumps(event)}\n\n".encode())
        self._chunk(b"data: [DONE]\n\n")
        self._end_chunks()


class _UpstreamServer(_Server):
    requests = 0


class FakeUpstream:
    """A fast OpenAI-compatible fake on a free loopback port; a context manager."""

    def __init__(self) -> None:
        self.server = _UpstreamServer(("127.0.0.1", 0), _UpstreamHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeUpstream:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------- the proxy


class _ProxyHandler(_Handler):
    server: _ProxyServer

    def do_GET(self) -> None:
        self._forward(b"", "GET")

    def do_POST(self) -> None:
        raw = self._body()
        fault = self.server.owner.fault_for(raw)
        if fault == "ok":
            self._forward(raw, "POST")
            return
        stream = b'"stream": true' in raw or b'"stream":true' in raw
        self._inject(fault, raw, stream)

    def _upstream(self, raw: bytes, method: str) -> tuple[int, str, bytes]:
        owner = self.server.owner
        conn = http.client.HTTPConnection(owner.upstream_host, owner.upstream_port, timeout=60)
        try:
            headers = {"content-type": "application/json"} if raw else {}
            conn.request(method, self.path, body=raw or None, headers=headers)
            response = conn.getresponse()
            return response.status, response.getheader("content-type") or "application/json", response.read()
        finally:
            conn.close()

    def _forward(self, raw: bytes, method: str) -> None:
        status, content_type, body = self._upstream(raw, method)
        if method == "POST" and status == 200:
            self.server.owner.note_answer(raw, body)
        self._send(status, body, {"content-type": content_type})

    def _error(self, status: int, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(
            {"error": {"message": f"injected {status}", "type": "injected", "code": str(status)}}
        )
        self._send(status, body.encode(), {"content-type": "application/json", **(headers or {})})

    def _inject(self, fault: str, raw: bytes, stream: bool) -> None:
        owner = self.server.owner
        if fault == "429s":
            return self._error(429, {"retry-after": "1"})
        if fault == "429date":
            return self._error(429, {"retry-after": formatdate(time.time() + 2, usegmt=True)})
        if fault == "429ms":
            return self._error(429, {"retry-after-ms": "150"})
        if fault == "429long":
            return self._error(429, {"retry-after": "86400"})
        if fault.isdigit():
            return self._error(int(fault), {"retry-after": "0"} if fault == "503" else None)
        if fault == "hang":
            time.sleep(owner.hang_s)  # bounded: well past the client's timeout, then give up
            self.close_connection = True
            return None
        if fault == "empty":
            if stream:
                self._chunked_head()
                self._chunk(b"data: [DONE]\n\n")
                return self._end_chunks()
            return self._send(200, b"")
        if fault == "malformed":
            if stream:
                self._chunked_head()
                self._chunk(b'data: {"id": "chatcmpl-x", "choices": [\n\n')
                return self._end_chunks()
            return self._send(200, b'{"id": "chatcmpl-x", "object": "chat.completion", "choices": [{"ind')
        if fault == "notchat":
            if stream:
                self._chunked_head()
                self._chunk(b'data: "just a string"\n\n')
                self._chunk(b"data: [DONE]\n\n")
                return self._end_chunks()
            return self._send(200, b'{"status": "ok"}')
        # The rest cut a real answer from the upstream short.
        status, content_type, body = self._upstream(raw, "POST")
        if not stream:
            cut = body[: max(1, len(body) // 2)]
            if fault in ("drop", "dropmid"):  # promise the whole body, send half, close
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(cut)
                self.wfile.flush()
                self.close_connection = True
                return None
            return self._send(status, cut, {"content-type": content_type})  # truncated: a clean short body
        events = [e + b"\n\n" for e in body.split(b"\n\n") if e.strip()]
        first_text = next((i for i, e in enumerate(events) if _has_text(e)), len(events) - 1)
        self._chunked_head()
        if fault == "drop":  # no event at all, then the connection dies mid-body
            self.wfile.flush()
            self.close_connection = True
            return None
        for event in events[: first_text + 1]:
            self._chunk(event)
        if fault == "dropmid":
            self.close_connection = True  # no terminating chunk: the client sees a broken body
            return None
        return self._end_chunks()  # truncated: ends cleanly, without finish reason or [DONE]


def _has_text(event: bytes) -> bool:
    data = event.strip().removeprefix(b"data:").strip()
    if not data.startswith(b"{"):
        return False
    try:
        choices = json.loads(data).get("choices") or []
    except ValueError:
        return False
    return any((c.get("delta") or {}).get("content") for c in choices)


class _ProxyServer(_Server):
    owner: FaultProxy


class FaultProxy:
    """Forwards to ``upstream_url`` or injects the planned fault; counts attempts per case."""

    def __init__(self, upstream_url: str, *, hang_s: float = 0.6) -> None:
        match = re.match(r"http://([^:/]+):(\d+)(/.*)?$", upstream_url)
        if not match or match.group(1) not in ("127.0.0.1", "localhost"):
            raise ValueError(f"the fault proxy only talks to loopback upstreams, not {upstream_url!r}")
        self.upstream_host, self.upstream_port = match.group(1), int(match.group(2))
        self.path = match.group(3) or ""
        self.hang_s = hang_s
        self.plans: dict[str, list[str]] = {}
        self.attempts: Counter[str] = Counter()
        self.faults: dict[str, list[str]] = defaultdict(list)
        self.answers: dict[str, str] = {}
        self._lock = threading.Lock()
        self.server = _ProxyServer(("127.0.0.1", 0), _ProxyHandler)
        self.server.owner = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"

    def plan(self, case: str, faults: list[str]) -> None:
        """The faults the first attempts of ``case`` get, in order; later attempts are forwarded."""
        unknown = [f for f in faults if f not in FAULT_KINDS]
        if unknown:
            raise ValueError(f"unknown faults {unknown}; choose from {FAULT_KINDS}")
        with self._lock:
            self.plans[case] = list(faults)

    def note_answer(self, raw: bytes, body: bytes) -> None:
        """Keep the text of a whole answer the proxy relayed, by case: what a success must return."""
        case = self._case(raw)
        if case is None:
            return
        try:
            if body.lstrip().startswith(b"{"):
                text = json.loads(body)["choices"][0]["message"]["content"] or ""
            else:
                text = ""
                for event in body.split(b"\n\n"):
                    data = event.strip().removeprefix(b"data:").strip()
                    if data.startswith(b"{"):
                        for c in json.loads(data).get("choices") or []:
                            text += (c.get("delta") or {}).get("content") or ""
        except (ValueError, KeyError, IndexError):
            return
        with self._lock:
            self.answers[case] = text

    def _case(self, raw: bytes) -> str | None:
        try:
            messages = json.loads(raw or b"{}").get("messages") or []
            match = CASE.search(str(messages[-1].get("content", ""))) if messages else None
        except ValueError:
            match = None
        return match.group(1) if match else None

    def fault_for(self, raw: bytes) -> str:
        case = self._case(raw)
        if case is None:
            return "ok"
        with self._lock:
            k = self.attempts[case]
            self.attempts[case] += 1
            plan = self.plans.get(case, [])
            fault = plan[k] if k < len(plan) else "ok"
            self.faults[case].append(fault)
        return fault

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
