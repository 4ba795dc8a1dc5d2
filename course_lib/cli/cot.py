"""The ``cot-orchestrator`` command: solve a problem step by step and show every step (lesson 10).

    cot-orchestrator "If I invest $1000 at 5% annual interest compounded monthly for 2 years, how much will I have?"
    cot-orchestrator --json --max-iterations 6 "What is 15% of 240?"
    cot-orchestrator --tools "What is 15% of 240?"          # the calculator as a native tool call
    cot-orchestrator --constrained "What is 15% of 240?"    # each step's JSON schema in response_format

It runs :class:`~course_lib.orchestrator.Orchestrator` on the configured provider (replay by
default, so the recorded problems work offline), prints each step as it arrives, then the
answer, the iterations and the tokens of the whole run. Exit codes: 0 answered; 1 no answer
(iterations or corrections ran out, or the provider failed); 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from course_lib.providers.base import ConfigurationError

__all__ = ["EXIT_CONFIG", "EXIT_NO_ANSWER", "EXIT_OK", "build_parser", "main", "recorded_problems"]

EXIT_OK, EXIT_NO_ANSWER, EXIT_CONFIG = 0, 1, 2
"""Exit codes: answered; no answer (iterations, corrections or provider failed); usage or configuration error."""
RECORDINGS = "cot_orchestrator"
NATIVE_RECORDINGS = "cot_orchestrator_native"
"""Recordings of the ``--tools`` and ``--constrained`` runs, beside the JSON-step ones."""
_LABELS = {"analyze": "ANALYZE", "calculate": "CALCULATE", "verify": "VERIFY", "final_answer": "FINAL ANSWER"}


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _kind_names() -> list[str]:
    from course_lib.providers.kinds import kind_names

    try:
        return kind_names()
    except ConfigurationError:  # a broken COURSE_PROVIDER_TABLE is reported when a provider is built
        return ["replay"]


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of ``cot-orchestrator`` (lesson 10)."""
    parser = argparse.ArgumentParser(
        prog="cot-orchestrator",
        description="Solve a multi-step problem with a chain-of-thought agent loop and a safe calculator.",
    )
    parser.add_argument("problem", nargs="+", help="the question to solve (quote it)")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON, nothing else")
    parser.add_argument("--max-iterations", type=_positive, default=10, metavar="N", help="default: 10")
    parser.add_argument("--max-corrections", type=int, default=2, metavar="N", help="per step; default: 2")
    parser.add_argument(
        "--provider",
        metavar="NAME",
        help=f"one of: {', '.join(_kind_names())} (default: COURSE_PROVIDER, else replay)",
    )
    parser.add_argument("--model", metavar="MODEL", help="the model to ask (COURSE_MODEL overrides it)")
    protocol = parser.add_mutually_exclusive_group()
    protocol.add_argument(
        "--tools",
        action="store_const",
        const="tools",
        dest="protocol",
        help="native tool calls: the calculator is a tool, the final answer plain text",
    )
    protocol.add_argument(
        "--constrained",
        action="store_const",
        const="schema",
        dest="protocol",
        help="schema-constrained steps: each step's JSON schema goes in response_format",
    )
    parser.add_argument(
        "--force-tool",
        action="store_true",
        help="with --tools: name the calculator in tool_choice on the first iteration (for models whose chat "
        "template cannot call tools on its own, such as the local SmolLM2)",
    )
    parser.set_defaults(protocol="json")
    return parser


def _readable(text: str) -> tuple[str, bool]:
    """The text with bytes that were not UTF-8 (kept by Python as surrogates) replaced by U+FFFD."""
    fixed = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return fixed, fixed != text


def recorded_problems() -> list[str]:
    """The problems the packaged replay recordings can answer (lesson 10)."""
    from course_lib.providers.replay.recordings import RecordingStore, resolve_recordings

    problems = set()
    for name in (RECORDINGS, NATIVE_RECORDINGS):
        if not resolve_recordings(name).exists():
            continue
        for entry in RecordingStore(name).entries.values():
            messages = entry.request.get("messages") or []
            if len(messages) == 2 and str(messages[1].get("content", "")).startswith("Problem: "):
                problems.add(messages[1]["content"].removeprefix("Problem: "))
    return sorted(problems)


def _is_replay_gap(exc: BaseException) -> bool:
    try:
        from course_lib.providers.replay.transport import ReplayExhaustedError, ReplayMissError
    except Exception:  # pragma: no cover - the replay module cannot load
        return False
    return isinstance(exc, ReplayMissError | ReplayExhaustedError)


class _Printer:
    """Prints loop events readably as they happen."""

    def __init__(self, console: Any) -> None:
        self.console = console

    def __call__(self, event: Any) -> None:
        from rich.markup import escape

        out = self.console.print
        if event.kind == "step":
            step = event.record.step
            out(f"\n[bold]Step {step.step}: {_LABELS[step.step_type]}[/bold]")
            out(f"  thought:    {escape(step.thought)}")
            if step.expression:
                out(f"  expression: {escape(step.expression)}")
            if step.result and step.step_type != "final_answer":
                out(f"  claimed:    {escape(step.result)} [dim](the model's own arithmetic, not used)[/dim]")
            if step.answer:
                out(f"  answer:     [bold]{escape(step.answer)}[/bold]")
        elif event.kind == "tool_result":
            record = event.record
            verdict = {
                True: " [green](agrees with the claim)[/green]",
                False: " [red](the claim was wrong)[/red]",
            }
            out(f"  {record.tool}: [cyan]{record.value!r}[/cyan]{verdict.get(record.claim_ok, '')}")
        elif event.kind == "tool_error":
            out(f"  {event.record.tool} error: [red]{escape(event.record.tool_error)}[/red]")
        elif event.kind == "invalid_output":
            first = (event.error or "").splitlines()
            reason = " ".join(line.strip() for line in first[:3])
            out(f"\n[yellow]Invalid reply in iteration {event.iteration}, asking for a correction:[/yellow]")
            out(f"  {escape(reason)}")
        elif event.kind == "provider_retry":
            out(
                f"\n[yellow]Provider error ({escape(event.error or '')}); retrying in {event.delay_s:.1f} s[/yellow]"
            )


def _summary(console: Any, result: Any) -> None:
    from rich.markup import escape

    console.rule()
    usage = result.usage
    counted = " (counted with tiktoken)" if usage.computed else ""
    if result.ok:
        console.print(f"Final answer: [bold green]{escape(result.answer or '')}[/bold green]")
    else:
        console.print(f"[bold red]No answer[/bold red] ({result.status}): {escape(result.error or '')}")
    if result.ungrounded:
        console.print(
            f"[yellow]Numbers in the answer no tool computed: {', '.join(result.ungrounded)}[/yellow]"
        )
    console.print(
        f"Iterations: {result.iterations} ({result.calls} model call{'s' if result.calls != 1 else ''})"
    )
    console.print(
        f"Tokens used: {usage.total_tokens:,} in the whole run "
        f"(prompt {usage.prompt_tokens:,} + completion {usage.completion_tokens:,}){counted}"
    )
    per = ", ".join(f"{u.total_tokens:,}" for u in result.usage_per_iteration)
    console.print(f"Tokens per iteration: {per}")


def main(argv: Sequence[str] | None = None, *, provider: Any = None) -> int:
    """Run ``cot-orchestrator``; returns the exit code (lesson 10). Tests pass ``provider`` directly."""
    from rich.console import Console

    from course_lib.orchestrator import Orchestrator
    from course_lib.retry import RetryPolicy

    err = Console(file=sys.stderr, highlight=False, emoji=False, soft_wrap=True)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage and the problem
        return EXIT_OK if exc.code == 0 else EXIT_CONFIG
    problem, undecodable = _readable(" ".join(args.problem).strip())
    if undecodable:
        err.print("note: the problem had bytes that are not UTF-8; they are shown as \ufffd", markup=False)
    if not problem:
        err.print('error: the problem is empty; pass a question, e.g. cot-orchestrator "What is 15% of 240?"')
        return EXIT_CONFIG
    if args.max_corrections < 0:
        err.print(f"error: --max-corrections must be 0 or more, got {args.max_corrections}")
        return EXIT_CONFIG
    if provider is None:
        try:
            from course_lib.providers.registry import get_provider
            from course_lib.providers.replay.recordings import resolve_recordings

            native = [NATIVE_RECORDINGS] if resolve_recordings(NATIVE_RECORDINGS).exists() else []
            recordings = [RECORDINGS, *native]
            provider = get_provider(args.provider, model=args.model, recordings=recordings)
        except (ConfigurationError, FileNotFoundError, KeyError, ImportError) as exc:
            err.print(f"configuration error: {exc}", markup=False)
            return EXIT_CONFIG
    out = Console(file=sys.stdout, highlight=False, emoji=False, soft_wrap=True)
    # An adapter that already retries (it has a retry policy) is not retried again by the loop:
    # retrying in two layers multiplies the attempts against a struggling server.
    retry = RetryPolicy(max_attempts=1) if getattr(provider, "retry", None) is not None else None
    if args.force_tool and args.protocol != "tools":
        err.print("error: --force-tool needs --tools")
        return EXIT_CONFIG
    from course_lib.tool_calls import forced_then_auto

    orchestrator = Orchestrator(
        provider,
        protocol=args.protocol,
        tool_choice=forced_then_auto("calculator") if args.force_tool else None,
        max_iterations=args.max_iterations,
        max_corrections=args.max_corrections,
        retry=retry,
        on_event=None if args.json else _Printer(out),
    )
    if not args.json:
        from rich.markup import escape

        out.print(f"Solving: {escape(problem)}")
        out.rule()
    try:
        result = orchestrator.run(problem)
    except Exception as exc:
        if not _is_replay_gap(exc):
            raise
        known = recorded_problems()
        hint = "\n".join(f"  - {p}" for p in known) or "  (none)"
        err.print(
            f"no recording for this run: {exc}\n\nThe replay provider can solve these recorded problems:\n{hint}\n"
            "or set COURSE_PROVIDER (openai, local, …) to ask a real model.",
            markup=False,
        )
        return EXIT_CONFIG
    if args.json:
        data = result.model_dump(mode="json", exclude={"messages"})
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        _summary(out, result)
    if not result.ok and result.status == "provider_error" and not args.json:
        err.print(f"provider error: {result.error}", markup=False)
    return EXIT_OK if result.ok else EXIT_NO_ANSWER


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
