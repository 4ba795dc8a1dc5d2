"""Self-consistency fan-out: N samples in parallel take about one sample's latency, not N.

Replay simulates a 200 ms time to first answer (``LatencyModel(ttft_s=0.2)``). For N = 1, 3, 5, 7, 11
the benchmark draws N samples with ``aself_consistency`` (each sample in its own ``sample_scope(i)``,
all N in flight) and, for comparison, one after another with ``complete``. Both are reported as a
ratio to one sample's measured latency, so the machine's speed does not blur the figure. Budget:
the parallel run takes at most 1.5× one sample for every N ≤ 11.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import common

RATIO_BUDGET = 1.5
NS = (1, 3, 5, 7, 11)
MODEL = "gpt-4o-mini"
TEMPERATURE = 0.7
MESSAGES = [
    {"role": "system", "content": "Answer the arithmetic question. End with 'Answer: <number>'."},
    {"role": "user", "content": "A queue drains 12 jobs a minute and 150 are waiting. Minutes to drain?"},
]
#: Scripted votes: mostly right, a few wrong, like a model sampled at temperature 0.7.
VOTES = ["12.5", "12.5", "13", "12.5", "12.5", "12", "12.5", "12.5", "13", "12.5", "12.5"]


def write_recordings(path: Path, samples: int) -> Path:
    """One scripted entry with ``samples`` answers, keyed by the request the fan-out sends."""
    from course_lib.providers.replay.recordings import RecordingStore

    store = RecordingStore(path)
    store.add_scripted(
        messages=MESSAGES,
        responses=[f"150 / 12 = 12.5 minutes. Answer: {VOTES[i % len(VOTES)]}" for i in range(samples)],
        model=MODEL,
        params={"temperature": TEMPERATURE},
        note="benchmark votes, written for benchmarks/bench_fanout.py",
    )
    return store.save()


def run(
    ns: tuple[int, ...] = NS, latency_s: float = 0.2, runs: int = 3, default_concurrency: int = 5
) -> dict[str, Any]:
    """Parallel vs sequential wall time of N samples, each as a ratio to one sample's latency."""
    from course_lib.providers.registry import get_provider
    from course_lib.providers.replay.scope import sample_scope
    from course_lib.providers.replay.transport import LatencyModel
    from course_lib.voting import aself_consistency

    load = common.load_average()
    n_max = max(ns)
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as tmp:
        path = write_recordings(Path(tmp) / "bench_fanout.jsonl", n_max)
        provider = get_provider(recordings=path, latency=LatencyModel(ttft_s=latency_s), env={})

        def sequential(n: int) -> float:
            start = time.perf_counter()
            for i in range(n):
                with sample_scope(i):
                    provider.complete(MESSAGES, temperature=TEMPERATURE)
            return time.perf_counter() - start

        async def parallel(n: int, concurrency: int | None) -> float:
            start = time.perf_counter()
            result = await aself_consistency(provider, MESSAGES, n, concurrency=concurrency)
            elapsed = time.perf_counter() - start
            if len(result.samples) != n:
                raise RuntimeError(f"asked for {n} samples, got {len(result.samples)}")
            return elapsed

        async def all_parallel() -> tuple[dict[int, list[float]], list[float]]:
            await parallel(1, 1)  # warm-up: the async SDK client
            out = {n: [await parallel(n, None) for _ in range(runs)] for n in ns}
            capped = [await parallel(n_max, default_concurrency) for _ in range(runs)]
            return out, capped

        sequential(1)  # warm-up: the sync SDK client
        seq = {n: [sequential(n) for _ in range(runs)] for n in ns}
        par, capped = asyncio.run(all_parallel())

    one = common.summarize(seq[min(ns)])["median"] / min(ns)
    rows = []
    for n in ns:
        par_wall = common.summarize(par[n])["median"]
        rows.append(
            common.row(
                f"N={n}, default settings (all in flight)",
                [t / one for t in par[n]],
                "×",
                budget=RATIO_BUDGET,
                detail=f"wall {common.format_value(par_wall, 's')}",
            )
        )
    for n in ns:
        seq_wall = common.summarize(seq[n])["median"]
        rows.append(
            common.row(
                f"N={n}, one after another",
                [t / one for t in seq[n]],
                "×",
                detail=f"wall {common.format_value(seq_wall, 's')}",
                headline=n == n_max,
            )
        )
    rows.append(
        common.row(
            f"N={n_max}, capped at concurrency={default_concurrency}",
            [t / one for t in capped],
            "×",
            headline=True,
            detail=f"the semaphore lets {default_concurrency} in flight: ceil(N/{default_concurrency}) waves",
        )
    )
    notes = [
        f"Simulated latency {latency_s * 1000:.0f} ms per sample; one sample measured at "
        f"{common.format_value(one, 's')} (the ratios' denominator).",
        "aself_consistency sends all N samples at once by default; a concurrency cap (e.g. a provider's "
        "rate limit) costs ceil(N/cap) waves of one sample's latency.",
    ]
    return common.make_result(
        "fanout",
        "Self-consistency fan-out",
        rows,
        notes=notes,
        params={"ns": list(ns), "latency_s": latency_s, "runs": runs},
        load_before=load,
    )


def main(argv: list[str] | None = None) -> int:
    """Run this benchmark alone and print its table."""
    parser = common.base_parser(__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs per N (default 3)")
    parser.add_argument("--latency", type=float, default=0.2, help="simulated latency in s (default 0.2)")
    args = parser.parse_args(argv)
    return common.report(run(runs=args.runs, latency_s=args.latency), json_path=args.json, strict=args.strict)


if __name__ == "__main__":
    raise SystemExit(main())
