"""``get_provider()``: build the configured provider from the environment (lesson 00).

``COURSE_PROVIDER`` names a row of the provider table (:mod:`course_lib.providers.kinds`); the row
says which adapter to build, where the server is, which variables hold its URL and key, and the
model to ask when the code names none. ``COURSE_MODEL`` overrides the model everywhere. Nothing is
checked at import time: a missing key or an unknown name fails when ``get_provider()`` is called,
with a message that says what to set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .base import BaseProvider, ConfigurationError
from .kinds import ProviderKind, load_kinds, recordable_kinds

__all__ = ["get_provider", "provider_config"]


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def provider_config(
    name: str | None = None, *, model: str | None = None, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """What ``get_provider`` would build, as plain data (no keys shown): for the setup lesson's picker."""
    e = _env(env)
    kinds = load_kinds(e)
    chosen_name = (name or e.get("COURSE_PROVIDER") or "replay").strip().lower()
    if chosen_name not in kinds:
        raise ConfigurationError(
            f"unknown provider {chosen_name!r} (from {'the argument' if name else 'COURSE_PROVIDER'}); "
            f"choose one of: {', '.join(kinds)}"
        )
    kind = kinds[chosen_name]
    chosen = e.get("COURSE_MODEL") or model or kind.default_model or ""
    config: dict[str, Any] = {"provider": kind.name, "model": chosen}
    if kind.adapter in ("openai", "anthropic"):
        config.update(_endpoint(kind, e))
    if kind.adapter == "record":
        upstream = (e.get("COURSE_RECORD_UPSTREAM") or "local").strip().lower()
        allowed = recordable_kinds(e)
        if upstream not in allowed:
            raise ConfigurationError(
                f"COURSE_RECORD_UPSTREAM={upstream!r} cannot be recorded; choose one of: {', '.join(allowed)}"
            )
        target = e.get("COURSE_RECORD_TO")
        if not target:
            raise ConfigurationError(
                "COURSE_PROVIDER=record needs COURSE_RECORD_TO: a lesson name (e.g. 05_self_consistency) "
                "or a .jsonl path to write the recordings to"
            )
        config.update({"upstream": upstream, "record_to": target, **_endpoint(kinds[upstream], e)})
    return config


def _endpoint(kind: ProviderKind, e: Mapping[str, str]) -> dict[str, Any]:
    base_url = (e.get(kind.url_env) if kind.url_env else None) or kind.base_url
    if kind.adapter == "openai" and not base_url:
        raise ConfigurationError(
            f"COURSE_PROVIDER={kind.name} needs {kind.url_env}, the server's base URL "
            "(e.g. http://127.0.0.1:8080/v1); set COURSE_MODEL to the server's model name too"
        )
    key = e.get(kind.key_env) if kind.key_env else None
    if kind.key_required and not key:
        raise ConfigurationError(
            f"COURSE_PROVIDER={kind.name} needs {kind.key_env}; set it, or unset COURSE_PROVIDER to use replay"
        )
    return {"base_url": base_url, "key_set": bool(key)}


def _openai_provider(base_url: str | None, api_key: str, model: str, name: str, **kw: Any) -> BaseProvider:
    import openai

    from .openai_adapter import OpenAIProvider

    clients: dict[str, Any] = {}
    if name == "local":  # llama-cpp-python's dialect (json_schema response formats), rewritten below the SDK
        from .local_transport import local_async_http_client, local_http_client

        clients = {"http_client": local_http_client()}
        async_clients = {"http_client": local_async_http_client()}
    else:
        async_clients = {}

    def async_client() -> Any:  # one per event loop: connections belong to the loop that opened them
        fresh = {"http_client": local_async_http_client()} if async_clients else {}
        return openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, **fresh)

    return OpenAIProvider(
        openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0, **clients),
        async_client=async_client,
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

    Paid kinds (``"paid": true`` in the provider table) come wrapped in the process's spend cap
    (:mod:`course_lib.guards.spend_cap`, ``COURSE_SPEND_CAP_USD``, default $2.00).
    ``model`` is the code's choice; ``COURSE_MODEL`` overrides it. ``recordings`` picks the replay
    file(s) (a lesson name such as ``"05_self_consistency"`` or a path); ``latency`` a
    :class:`~course_lib.providers.replay.transport.LatencyModel` for replay.
    """
    e = _env(env)
    config = provider_config(name, model=model, env=e)
    kind, chosen = load_kinds(e)[config["provider"]], config["model"]
    if kind.adapter == "replay":
        from .openai_adapter import OpenAIProvider
        from .replay.transport import ReplayTransport

        transport = ReplayTransport(recordings, latency=latency)
        provider = OpenAIProvider(
            transport.openai_client(),
            async_client=transport.async_openai_client,  # one client per event loop
            model=chosen,
            name="replay",
            **kwargs,
        )
        provider.transport = transport  # type: ignore[attr-defined]
        return provider
    if kind.adapter == "openai":
        if not chosen:
            raise ConfigurationError(
                f"COURSE_PROVIDER={kind.name} needs COURSE_MODEL (the server's model name)"
            )
        api_key = (e.get(kind.key_env) if kind.key_env else None) or kind.name
        if kind.name == "local" and "token_counter" not in kwargs:
            from .local import ServerTokenCounter

            # llama.cpp sends no usage in streams: count with the serving model's own tokenizer.
            kwargs["token_counter"] = ServerTokenCounter(config["base_url"])
        return _capped(kind, _openai_provider(config["base_url"], api_key, chosen, kind.name, **kwargs), e)
    if kind.adapter == "anthropic":
        from .anthropic_adapter import AnthropicProvider

        return _capped(kind, AnthropicProvider(model=chosen, **kwargs), e)
    return _capped(load_kinds(e)[config["upstream"]], _recording_provider(config, e, recordings, **kwargs), e)


def _capped(kind: ProviderKind, provider: BaseProvider, e: Mapping[str, str]) -> BaseProvider:
    """A paid kind's provider behind the process's spend cap (``COURSE_SPEND_CAP_USD``); others unchanged."""
    if not kind.paid:
        return provider
    from ..guards.spend_cap import guard_paid

    return guard_paid(provider, provider.model, e)


def _recording_provider(
    config: dict[str, Any], e: Mapping[str, str], recordings: Any, **kwargs: Any
) -> BaseProvider:
    import httpx2
    import openai

    from .openai_adapter import OpenAIProvider
    from .replay.recorder import ENGINE_ENV, MODEL_HASH_ENV, RecordingTransport
    from .replay.recordings import RecordingStore
    from .replay.transport import ReplayTransport

    store = RecordingStore(config["record_to"])
    upstream = config["upstream"]
    kind = load_kinds(e)[upstream]
    api_key = (e.get(kind.key_env) if kind.key_env else None) or kind.name
    base_url = config["base_url"]
    replay = ReplayTransport(store.path) if store.path.exists() else None
    if (
        upstream == "local"
    ):  # rewritten for llama-cpp-python below the recorder: entries key on the lesson's request
        from .local_transport import LocalDialectTransport

        wire: httpx2.BaseTransport = LocalDialectTransport(httpx2.HTTPTransport())
    else:
        wire = httpx2.HTTPTransport()
    engine = _engine(e) if upstream == "local" else {}
    recorder = RecordingTransport(
        store,
        wire,
        server=e.get("COURSE_RECORD_SERVER") or _server_label(upstream),
        replay_scripted=replay.handle if replay else None,
        model_label=kind.default_model if upstream == "local" else None,
        llama_cpp_python=engine.get(ENGINE_ENV),
        model_sha256=engine.get(MODEL_HASH_ENV),
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


def _engine(e: Mapping[str, str]) -> dict[str, str]:
    """The engine version and model hash to store with local recordings: from the environment, else measured."""
    from .local import engine_provenance
    from .replay.recorder import ENGINE_ENV, MODEL_HASH_ENV

    if e.get(ENGINE_ENV) and e.get(MODEL_HASH_ENV):
        return {ENGINE_ENV: e[ENGINE_ENV], MODEL_HASH_ENV: e[MODEL_HASH_ENV]}
    try:
        return engine_provenance()
    except Exception:  # the local extra is missing: nothing to stamp (and no server to record from)
        return {}


def _server_label(upstream: str) -> str:
    if upstream == "local":
        try:
            from importlib.metadata import version

            return f"llama-cpp-python {version('llama-cpp-python')} (SmolLM2-135M-Instruct Q4_1)"
        except Exception:  # pragma: no cover - the local extra is missing
            return "llama-cpp-python"
    return upstream
