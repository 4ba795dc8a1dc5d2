"""The table of provider kinds (lesson 00): one row per value of ``COURSE_PROVIDER``.

The rows live in ``course_lib/data/providers.json`` (or the file ``COURSE_PROVIDER_TABLE`` names, so a
team can add a preset without editing the package). Everything that lists providers reads them from
here: :func:`~course_lib.providers.registry.get_provider`, ``course record``, the command-line help,
``course doctor``, the README's table and lesson 00.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from .base import ConfigurationError

__all__ = ["ProviderKind", "kind_names", "load_kinds", "markdown_table", "recordable_kinds"]

TABLE_ENV = "COURSE_PROVIDER_TABLE"


class ProviderKind(BaseModel):
    """One row of the table: how to reach one kind of provider (lesson 00)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    adapter: Literal["replay", "openai", "anthropic", "record"]
    talks_to: str
    base_url: str | None = None
    url_env: str | None = None
    key_env: str | None = None
    key_required: bool = False
    default_model: str | None = None
    recordable: bool = False
    paid: bool = False

    @model_validator(mode="after")
    def _reachable(self) -> ProviderKind:
        if self.adapter == "openai" and not (self.base_url or self.url_env):
            raise ValueError(f"{self.name}: an OpenAI-compatible kind needs base_url or url_env")
        if self.key_required and not self.key_env:
            raise ValueError(f"{self.name}: key_required needs key_env")
        return self

    def also_set(self) -> list[str]:
        """The environment variables a learner sets to use this kind (for tables and help)."""
        needed: list[str] = []
        if self.key_env:
            needed.append(self.key_env if self.key_required else f"{self.key_env} (if the server needs one)")
        if self.url_env and not self.base_url:
            needed.append(self.url_env)
        if self.adapter in ("openai", "anthropic") and not self.default_model:
            needed.append("COURSE_MODEL")
        if self.adapter == "record":
            needed += ["COURSE_RECORD_UPSTREAM", "COURSE_RECORD_TO"]
        return needed


def _table_path(env: Mapping[str, str] | None) -> str | None:
    return (os.environ if env is None else env).get(TABLE_ENV) or None


@lru_cache(maxsize=8)
def _load(path: str | None) -> tuple[ProviderKind, ...]:
    where = path or "course_lib/data/providers.json"
    try:
        if path:
            text = Path(path).read_text(encoding="utf-8")
        else:
            text = (resources.files("course_lib") / "data" / "providers.json").read_text(encoding="utf-8")
        rows = tuple(ProviderKind.model_validate(r) for r in json.loads(text)["kinds"])
    except (OSError, KeyError, TypeError, json.JSONDecodeError, ValidationError) as exc:
        raise ConfigurationError(
            f"the provider table {where} cannot be read ({type(exc).__name__}: {exc}); "
            f"fix it, or unset {TABLE_ENV} to use the course's own table"
        ) from exc
    names = [r.name for r in rows]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"the provider table {where} names a kind twice: {names}")
    return rows


def load_kinds(env: Mapping[str, str] | None = None) -> dict[str, ProviderKind]:
    """Every provider kind by name, in table order (lesson 00)."""
    return {k.name: k for k in _load(_table_path(env))}


def kind_names(env: Mapping[str, str] | None = None) -> list[str]:
    """The names ``COURSE_PROVIDER`` accepts, in table order."""
    return list(load_kinds(env))


def recordable_kinds(env: Mapping[str, str] | None = None) -> list[str]:
    """The kinds ``course record --upstream`` can record from."""
    return [k.name for k in load_kinds(env).values() if k.recordable]


def markdown_table(env: Mapping[str, str] | None = None) -> str:
    """The table as Markdown, for the README and lesson 00."""
    lines = ["| `COURSE_PROVIDER` | talks to | default model | also set |", "| --- | --- | --- | --- |"]
    for k in load_kinds(env).values():
        name = f"`{k.name}` (default)" if k.name == "replay" else f"`{k.name}`"
        also = ", ".join(f"`{v.split(' ')[0]}`{v[len(v.split(' ')[0]) :]}" for v in k.also_set()) or "—"
        model = f"`{k.default_model}`" if k.default_model and k.adapter != "record" else "—"
        lines.append(f"| {name} | {k.talks_to} | {model} | {also} |")
    return "\n".join(lines)
