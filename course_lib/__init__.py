"""Companion library of the course *Prompt Engineering as System Design*.

Import what a lesson needs from here; heavy dependencies (the ``openai`` SDK, chromadb, matplotlib)
are loaded only when the object that needs them is first used, so ``import course_lib`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> module that defines it (imported on first access).
_EXPORTS: dict[str, str] = {
    "BadRequestError": "course_lib.providers.base",
    "BaseProvider": "course_lib.providers.base",
    "ChatResult": "course_lib.providers.base",
    "Choice": "course_lib.providers.base",
    "ConfigurationError": "course_lib.providers.base",
    "FaultSchedule": "course_lib.providers.faulty",
    "FaultyProvider": "course_lib.providers.faulty",
    "LatencyModel": "course_lib.providers.replay",
    "OpenAIProvider": "course_lib.providers.openai_adapter",
    "ProviderError": "course_lib.providers.base",
    "ProviderTimeout": "course_lib.providers.base",
    "RateLimitError": "course_lib.providers.base",
    "RecordingStore": "course_lib.providers.recordings",
    "ReplayExhaustedError": "course_lib.providers.replay",
    "ReplayMissError": "course_lib.providers.replay",
    "ReplayTransport": "course_lib.providers.replay",
    "ScriptedProvider": "course_lib.providers.scripted",
    "ServerError": "course_lib.providers.base",
    "StreamChunk": "course_lib.providers.base",
    "Usage": "course_lib.providers.base",
    "count_message_tokens": "course_lib.tokens",
    "count_tokens": "course_lib.tokens",
    "get_provider": "course_lib.providers.registry",
    "provider_config": "course_lib.providers.registry",
    "sample_scope": "course_lib.providers.scope",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'course_lib' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
