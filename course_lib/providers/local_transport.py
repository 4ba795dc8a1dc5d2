"""The local server's dialect: OpenAI requests rewritten for llama-cpp-python's server at the HTTP layer (lesson 07).

llama-cpp-python's server speaks OpenAI's chat API with two differences that matter to the course:

- schema-constrained output is ``response_format={"type": "json_object", "schema": {...}}`` (its own
  form); OpenAI's ``{"type": "json_schema", "json_schema": {"schema": ...}}`` is refused with a 500;
- the chat templates read every message's ``content``, so an assistant message that carries only
  ``tool_calls`` (no ``content`` key) fails to render.

:class:`LocalDialectTransport` wraps the real HTTP transport beneath the ``openai`` SDK and rewrites each
request body with :func:`to_llama_cpp` just before it leaves the machine. Everything above it — the
provider's ``complete(...)``, a direct ``client.chat.completions.parse(...)``, and the recording transport,
which keys its entries on the request as the lesson sent it — sees OpenAI's form unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx2

__all__ = [
    "AsyncLocalDialectTransport",
    "LocalDialectTransport",
    "local_async_http_client",
    "local_http_client",
    "rewrite_request",
    "to_llama_cpp",
]


def to_llama_cpp(body: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAI chat request body in the form llama-cpp-python's server accepts; a pure function (lesson 07).

    ``json_schema`` response formats become ``{"type": "json_object", "schema": ...}`` and assistant
    messages with tool calls but no content get ``"content": ""``; everything else is left as it is.
    """
    out = dict(body)
    fmt = out.get("response_format")
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema") or {}
        schema = spec.get("schema") if isinstance(spec, Mapping) else None
        if not isinstance(schema, Mapping):
            raise ValueError(
                "response_format has type 'json_schema' but no json_schema.schema object; pass "
                '{"type": "json_schema", "json_schema": {"name": ..., "schema": {...}}}'
            )
        out["response_format"] = {"type": "json_object", "schema": dict(schema)}
    messages = out.get("messages")
    if isinstance(messages, list):
        fixed = []
        for message in messages:
            if isinstance(message, Mapping) and message.get("tool_calls") and message.get("content") is None:
                message = {**message, "content": ""}
            fixed.append(message)
        out["messages"] = fixed
    return out


def rewrite_request(request: httpx2.Request) -> httpx2.Request:
    """The same HTTP request with its JSON body passed through :func:`to_llama_cpp` (lesson 07).

    Requests that are not chat completions, or whose body is not JSON, pass through untouched.
    """
    if not request.url.path.rstrip("/").endswith("/chat/completions") or request.method != "POST":
        return request
    try:
        body = json.loads(request.content or b"{}")
    except ValueError:
        return request
    if not isinstance(body, dict):
        return request
    new_body = to_llama_cpp(body)
    if new_body == body:
        return request
    content = json.dumps(new_body).encode("utf-8")
    headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() != "content-length"]
    return httpx2.Request(
        request.method, request.url, headers=headers, content=content, extensions=request.extensions
    )


class LocalDialectTransport(httpx2.BaseTransport):
    """Rewrites chat requests for llama-cpp-python's server, then hands them to ``inner`` (lesson 07)."""

    def __init__(self, inner: httpx2.BaseTransport | None = None) -> None:
        self.inner = inner if inner is not None else httpx2.HTTPTransport()

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Rewrite, forward, return the server's response unchanged."""
        return self.inner.handle_request(rewrite_request(request))

    def close(self) -> None:
        """Close the wrapped transport."""
        self.inner.close()


class AsyncLocalDialectTransport(httpx2.AsyncBaseTransport):
    """The async form of :class:`LocalDialectTransport` (lesson 07)."""

    def __init__(self, inner: httpx2.AsyncBaseTransport | None = None) -> None:
        self.inner = inner if inner is not None else httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Rewrite, forward, return the server's response unchanged."""
        return await self.inner.handle_async_request(rewrite_request(request))

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self.inner.aclose()


def local_http_client(timeout: float = 120.0) -> httpx2.Client:
    """An ``httpx2.Client`` for ``openai.OpenAI(http_client=...)`` that talks the local server's dialect."""
    return httpx2.Client(transport=LocalDialectTransport(), timeout=timeout)


def local_async_http_client(timeout: float = 120.0) -> httpx2.AsyncClient:
    """The async counterpart of :func:`local_http_client`."""
    return httpx2.AsyncClient(transport=AsyncLocalDialectTransport(), timeout=timeout)
