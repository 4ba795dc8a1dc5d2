"""Replay throughput through the real `openai` SDK, sync and async, and the cost of one lookup.

A temporary recordings file with scripted entries (``RecordingStore.add_scripted``) feeds a
``ReplayTransport``; requests go through ``openai.OpenAI`` / ``openai.AsyncOpenAI`` exactly as a lesson
sends them, so the SDK builds and parses every request and response for real. Every request runs
inside ``sample_scope(0)``, so the same entries can be replayed again and again.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

import common

MODEL = "gpt-4o-mini"


def prompts(count: int) -> list[list[dict[str, str]]]:
    """``count`` distinct two-message chats (system + user)."""
    return [
        [
            {"role": "system", "content": "You are a terse on-call assistant."},
            {"role": "user", "content": f"Summarise incident #{i} in one line."},
        ]
        for i in range(count)
    ]


def write_recordings(path: Path, chats: list[list[dict[str, str]]], *, model: str = MODEL) -> Path:
    """Write one scripted entry per chat into ``path`` and return it."""
    from course_lib.providers.replay.recordings import RecordingStore

    store = RecordingStore(path)
    for i, messages in enumerate(chats):
        store.add_scripted(
            messages=messages,
            responses=[f"Incident {i}: the cache expired and the fallback held; no customer impact."],
            model=model,
            note="benchmark traffic, written for benchmarks/bench_replay.py",
        )
    return store.save()


def _throughput(requests: int, seconds: float) -> float:
    return requests / seconds if seconds > 0 else float("inf")


def run(
    requests: int = 200, runs: int = 5, entries: int = 20, lookups: int = 2000, provider_requests: int = 100
) -> dict[str, Any]:
    """Requests/s sync and async over ``requests`` per run, and µs per ``ReplayTransport.lookup``."""
    from course_lib.providers.registry import get_provider
    from course_lib.providers.replay.scope import sample_scope
    from course_lib.providers.replay.transport import ReplayTransport

    load = common.load_average()
    chats = prompts(entries)
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        path = write_recordings(Path(tmp) / "bench_replay.jsonl", chats)
        transport = ReplayTransport(path)
        client, aclient = transport.openai_client(), transport.async_openai_client()

        def sync_batch(count: int) -> None:
            with sample_scope(0):
                for i in range(count):
                    client.chat.completions.create(model=MODEL, messages=chats[i % entries])  # type: ignore[arg-type]

        async def one(i: int) -> Any:
            with sample_scope(0):
                return await aclient.chat.completions.create(model=MODEL, messages=chats[i % entries])  # type: ignore[arg-type]

        async def async_runs() -> list[float]:
            await asyncio.gather(*(one(i) for i in range(min(requests, 10))))  # warm-up
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                await asyncio.gather(*(one(i) for i in range(requests)))
                times.append(time.perf_counter() - start)
            return times

        sync_batch(min(requests, 10))  # warm-up: SDK modules, pydantic models
        sync_times = common.time_calls(lambda: sync_batch(requests), runs)
        async_times = asyncio.run(async_runs())

        body = {"model": MODEL, "messages": chats[0]}
        with sample_scope(0):
            per_lookup = [
                t / lookups
                for t in timeit.repeat(
                    lambda: transport.lookup("chat.completions", body), number=lookups, repeat=runs
                )
            ]
        transport.reset()

        provider = get_provider(recordings=path, env={})

        def provider_batch() -> None:
            with sample_scope(0):
                for i in range(provider_requests):
                    provider.complete(chats[i % entries])

        provider_batch()
        provider_times = common.time_calls(provider_batch, runs)

    sync_rps = [_throughput(requests, t) for t in sync_times]
    async_rps = [_throughput(requests, t) for t in async_times]
    sdk_us = common.summarize(sync_times)["median"] / requests
    rows = [
        common.row("sync: OpenAI client, one request after another", sync_rps, "req/s", headline=True),
        common.row(f"async: AsyncOpenAI, asyncio.gather of {requests}", async_rps, "req/s", headline=True),
        common.row("ReplayTransport.lookup (canonical key + dict lookup)", per_lookup, "s", headline=True),
        common.row(
            "sync: course provider (OpenAIProvider.complete)",
            [_throughput(provider_requests, t) for t in provider_times],
            "req/s",
            detail="adds validation, retries and ChatResult",
        ),
    ]
    lookup_share = common.summarize(per_lookup)["median"] / sdk_us if sdk_us else 0.0
    notes = [
        f"{entries} scripted entries in a temporary JSONL file; {requests} requests per run.",
        f"The lookup is {lookup_share:.1%} of a whole sync request: the SDK's request building and "
        "response parsing dominate.",
    ]
    return common.make_result(
        "replay",
        "Replay throughput",
        rows,
        notes=notes,
        params={"requests": requests, "runs": runs, "entries": entries, "lookups": lookups},
        load_before=load,
    )


def main(argv: list[str] | None = None) -> int:
    """Run this benchmark alone and print its table."""
    parser = common.base_parser(__doc__)
    parser.add_argument("--requests", type=int, default=200, help="requests per run (default 200)")
    parser.add_argument("--runs", type=int, default=5, help="runs (default 5)")
    args = parser.parse_args(argv)
    return common.report(run(requests=args.requests, runs=args.runs), json_path=args.json, strict=args.strict)


if __name__ == "__main__":
    raise SystemExit(main())
