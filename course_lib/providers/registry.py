"""``get_provider()``: build the configured provider from the environment (lesson 00).

| ``COURSE_PROVIDER``   | what it builds                                   | also reads                              |
| --------------------- | ------------------------------------------------ | --------------------------------------- |
| ``replay`` (default)  | the official SDK on recorded responses, offline  | ``COURSE_RECORDINGS``                   |
| ``openai``            | OpenAI                                           | ``OPENAI_API_KEY``                      |
| ``openai-compatible`` | any OpenAI-compatible server (Ollama, vLLM …)    | ``COURSE_BASE_URL``, ``COURSE_API_KEY`` |
| ``anthropic``         | Anthropic (extra ``anthropic``)                  | ``ANTHROPIC_API_KEY``                   |
| ``local``             | SmolLM2-135M on ``course serve-local``           | ``COURSE_LOCAL_URL``                    |
| ``record``            | an upstream above, recording into a JSONL file   | ``COURSE_RECORD_UPSTREAM``, ``COURSE_RECORD_TO`` |

``COURSE_MODEL`` overrides the model everywhere. Nothing is checked at import time: a missing key
or an unknown name fails when ``get_provider()`` is called, with a message that says what to set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .base import BaseProvider, ConfigurationError

PROVIDERS = ("replay", "openai", "openai-compatible", "anthropic", "local", "record")
DEFAULT_MODELS = {
    "replay": "gpt-4o-mini",
    "openai": "gpt-4o-mini",
    "openai-compatible": "",
    "anthropic": "claude-sonnet-5-5",
    "local": "SmolLM2-135M-Instruct",
}
LOCAL_MODEL = "SmolLM2-135M-Instruct"
DEFAULT_LOCAL_URL = "http://127.0.0.1:8765/v1"


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def provider_config(
    name: str | None = None, *, model: str | None = None, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """What ``get_provider`` would build, as plain data (no keys shown): for the setup lesson's picker."""
    e = _env(env)
    kind = (name or e.get("COURSE_PROVIDER") or "replay").strip().lower()
    if kind not in PROVIDERS:
        raise ConfigurationError(
            f"unknown provider {kind!r} (from {'the argument' if name else 'COURSE_PROVIDER'}); "
            f"choose one of: {', '.join(PROVIDERS)}"
        )
    upstream = (e.get("COURSE_RECORD_UPSTREAM") or "local").lower() if kind == "record" else None
    chosen = e.get("COURSE_MODEL") or model or DEFAULT_MODELS.get(upstream or kind, "")
    config: dict[str, Any] = {"provider": kind, "model": chosen}
    if kind in ("openai", "openai-compatible", "anthropic", "local"):
        config.update(_endpoint(kind, e))
    if kind == "record":
        if upstream not in ("openai", "openai-compatible", "local"):
            raise ConfigurationError(
                f"COURSE_RECORD_UPSTREAM={upstream!r} cannot be recorded; use local, openai or openai-compatible"
            )
        target = e.get("COURSE_RECORD_TO")
        if not target:
            raise ConfigurationError(
                "COURSE_PROVIDER=record needs COURSE_RECORD_TO: a lesson name (e.g. 05_self_consistency) "
                "or a .jsonl path to write the recordings to"
            )
        config.update({"upstream": upstream, "record_to": target, **_endpoint(upstream, e)})
    return config


def _endpoint(kind: str, e: Mapping[str, str]) -> dict[str, Any]:
    if kind == "openai":
        if not e.get("OPENAI_API_KEY"):
            raise ConfigurationError(
                "COURSE_PROVIDER=openai needs OPENAI_API_KEY; set it, or unset COURSE_PROVIDER to use replay"
            )
        return {"base_url": e.get("COURSE_BASE_URL") or None, "key_set": True}
    if kind == "openai-compatible":
        if not e.get("COURSE_BASE_URL"):
            raise ConfigurationError(
                "COURSE_PROVIDER=openai-compatible needs COURSE_BASE_URL, e.g. http://127.0.0.1:11434/v1 "
                "for Ollama; set COURSE_MODEL to the server's model name too"
            )
        return {"base_url": e["COURSE_BASE_URL"], "key_set": bool(e.get("COURSE_API_KEY"))}
    if kind == "anthropic":
        if not e.get("ANTHROPIC_API_KEY"):
            raise ConfigurationError("COURSE_PROVIDER=anthropic needs ANTHROPIC_API_KEY; set it")
        return {"key_set": True}
    if kind == "local":
        return {"base_url": e.get("COURSE_LOCAL_URL") or DEFAULT_LOCAL_URL, "key_set": False}
    return {}


def _openai_provider(base_url: str | None, api_key: str, model: str, name: str, **kw: Any) -> BaseProvider:
    import openai

    from .openai_adapter import OpenAIProvider

    return OpenAIProvider(
        openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0),
        async_client=openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0),
        model=model,
        name=name,
        **kw,
    )


def get_provider(
    name: str | None = None,
    *,
    model: str | None = None,
    recordings: str | Path | Sequence[str | Path] | None = None,
    latency: Any = None,
    env: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> BaseProvider:
    """Build the provider named by ``name`` or ``COURSE_PROVIDER`` (default ``replay``) (lesson 00).

    ``model`` is the code's choice; ``COURSE_MODEL`` overrides it. ``recordings`` picks the replay
    file(s) (a lesson name such as ``"05_self_consistency"`` or a path); ``latency`` a
    :class:`~course_lib.providers.replay.LatencyModel` for replay.
    """
    e = _env(env)
    config = provider_config(name, model=model, env=e)
    kind, chosen = config["provider"], config["model"]
    if kind == "replay":
        from .openai_adapter import OpenAIProvider
        from .replay import ReplayTransport

        transport = ReplayTransport(recordings, latency=latency)
        provider = OpenAIProvider(
            transport.openai_client(),
            async_client=transport.async_openai_client(),
            model=chosen,
            name="replay",
            **kwargs,
        )
        provider.transport = transport  # type: ignore[attr-defined]
        return provider
    if kind == "openai":
        return _openai_provider(config["base_url"], e["OPENAI_API_KEY"], chosen, "openai", **kwargs)
    if kind == "openai-compatible":
        if not chosen:
            raise ConfigurationError(
                "COURSE_PROVIDER=openai-compatible needs COURSE_MODEL (the server's model name)"
            )
        return _openai_provider(
            config["base_url"], e.get("COURSE_API_KEY") or "none", chosen, "openai-compatible", **kwargs
        )
    if kind == "local":
        return _openai_provider(config["base_url"], "local", chosen, "local", **kwargs)
    if kind == "anthropic":
        from .anthropic_adapter import AnthropicProvider

        return AnthropicProvider(model=chosen, **kwargs)
    return _recording_provider(config, e, recordings, **kwargs)


def _recording_provider(
    config: dict[str, Any], e: Mapping[str, str], recordings: Any, **kwargs: Any
) -> BaseProvider:
    import httpx2
    import openai

    from .openai_adapter import OpenAIProvider
    from .recorder import RecordingTransport
    from .recordings import RecordingStore
    from .replay import ReplayTransport

    store = RecordingStore(config["record_to"])
    upstream = config["upstream"]
    if upstream == "openai":
        api_key, base_url = e["OPENAI_API_KEY"], config.get("base_url") or "https://api.openai.com/v1"
    elif upstream == "openai-compatible":
        api_key, base_url = e.get("COURSE_API_KEY") or "none", config["base_url"]
    else:
        api_key, base_url = "local", config["base_url"]
    replay = ReplayTransport(store.path) if store.path.exists() else None
    recorder = RecordingTransport(
        store,
        httpx2.HTTPTransport(),
        server=e.get("COURSE_RECORD_SERVER") or _server_label(upstream),
        replay_scripted=replay.handle if replay else None,
        model_label=LOCAL_MODEL if upstream == "local" else None,
    )
    client = openai.OpenAI(
        api_key=api_key,
        base_url=base_url,
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(recorder.handle), timeout=120),
    )
    provider = OpenAIProvider(client, model=config["model"], name=f"record:{upstream}", **kwargs)
    provider.recorder = recorder  # type: ignore[attr-defined]
    return provider


def _server_label(upstream: str) -> str:
    if upstream == "local":
        try:
            from importlib.metadata import version

            return f"llama-cpp-python {version('llama-cpp-python')} (SmolLM2-135M-Instruct Q4_1)"
        except Exception:  # pragma: no cover - the local extra is missing
            return "llama-cpp-python"
    return upstream
