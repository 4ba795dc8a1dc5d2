"""Replay and recording (lesson 00): answer model calls from recordings, or record a real model's answers.

``transport`` is the ``httpx2`` transport handed to the official SDK; ``recordings`` the file format and
the canonical request key; ``recorder`` the transport that writes answers from a real upstream;
``responses`` builds SDK-shaped bodies and streams; ``scope`` pins a call to one recorded sample.
Names load on first use, so ``sample_scope`` costs no SDK import.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "LatencyModel": "transport",
    "RecordingStore": "recordings",
    "RecordingTransport": "recorder",
    "ReplayExhaustedError": "transport",
    "ReplayMissError": "transport",
    "ReplayTransport": "transport",
    "sample_scope": "scope",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'course_lib.providers.replay' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
