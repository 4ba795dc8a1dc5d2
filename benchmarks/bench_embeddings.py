"""Offline MiniLM embeddings (documents/s) and the latency of a chromadb query over the few-shot examples.

The documents are the course's 50 labelled contract clauses (``course_lib/data/fewshot_examples.json``).
``embed`` runs the int8 ONNX model in this process; the first call also loads the ONNX session and
the tokenizer, which is reported on its own. The chromadb part builds the lesson's
``FewShotSelector`` on an ephemeral (in-memory) client and times ``select(query, k=3)``, which embeds
the query and searches the collection.
"""

from __future__ import annotations

import time
from typing import Any

import common

QUERIES = [
    "The tenant pays rent on the first day of each month.",
    "Either party may end this agreement with thirty days' written notice.",
    "The borrower repays the principal in twelve monthly instalments.",
    "The processor deletes personal data when the services end.",
    "The licensee may not sublicense the software.",
    "The employee keeps the company's trade secrets private.",
]


def run(docs: int = 50, runs: int = 5, queries: int = 30, builds: int = 3) -> dict[str, Any]:
    """Embedding throughput over ``docs`` texts, index build time and query latency."""
    from course_lib import embeddings
    from course_lib.retrieval import FewShotSelector, chroma_client, load_examples

    load = common.load_average()
    examples = load_examples()
    texts = [examples[i % len(examples)].text for i in range(docs)]

    start = time.perf_counter()
    embeddings.embed(texts[:1])
    first_call = time.perf_counter() - start  # ONNX session + tokenizer, unless already loaded

    embed_times = common.time_calls(lambda: embeddings.embed(texts), runs, warmup=1)
    single = common.time_calls(lambda: embeddings.embed(texts[:1]), runs)

    client = chroma_client()
    build_times = []
    selector = None
    for i in range(builds):
        start = time.perf_counter()
        selector = FewShotSelector(examples, client=client, collection_name=f"bench-fewshot-{i}")
        build_times.append(time.perf_counter() - start)
    assert selector is not None
    selector.select(QUERIES[0], k=3)  # warm-up
    query_times = []
    for i in range(queries):
        start = time.perf_counter()
        selector.select(QUERIES[i % len(QUERIES)], k=3)
        query_times.append(time.perf_counter() - start)

    rows = [
        common.row(
            f"embed {docs} documents (batch 32)", [docs / t for t in embed_times], "docs/s", headline=True
        ),
        common.row("embed one short text", single, "s"),
        common.row("first embed call (loads ONNX session + tokenizer)", [first_call], "s"),
        common.row(
            f"build FewShotSelector ({len(examples)} examples into chromadb)",
            build_times,
            "s",
            detail="ephemeral client; embeds and upserts every example",
        ),
        common.row(
            "chromadb query: select(query, k=3)",
            query_times,
            "s",
            spread="IQR",
            detail="embeds the query, then searches",
            headline=True,
        ),
    ]
    return common.make_result(
        "embeddings",
        "Embeddings and retrieval",
        rows,
        notes=["int8 all-MiniLM-L6-v2 via onnxruntime (CPU), 384 dimensions, unit vectors."],
        params={"docs": docs, "runs": runs, "queries": queries, "builds": builds},
        load_before=load,
    )


def main(argv: list[str] | None = None) -> int:
    """Run this benchmark alone and print its table."""
    parser = common.base_parser(__doc__)
    parser.add_argument("--runs", type=int, default=5, help="embedding runs (default 5)")
    parser.add_argument("--queries", type=int, default=30, help="chromadb queries to time (default 30)")
    args = parser.parse_args(argv)
    return common.report(run(runs=args.runs, queries=args.queries), json_path=args.json, strict=args.strict)


if __name__ == "__main__":
    raise SystemExit(main())
