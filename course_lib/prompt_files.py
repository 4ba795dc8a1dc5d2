"""Versioned prompt files: owner, version, acceptance criteria and changelog (lesson 03).

A prompt that runs in production is code: it has a version, an owner, acceptance criteria and a
changelog. :class:`PromptFile` is that record, stored as TOML (or JSON) under ``course_lib/data/prompts``
and validated on load: semantic versions, a dated changelog, newest entry first, and a version that
matches the newest entry. A broken file fails with the file and the field in the message.

TOML is read with :mod:`tomllib` (Python 3.11+); on Python 3.10 install ``tomli`` or use a ``.json``
file with the same fields.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .prompts import Example, _require_text, few_shot_messages

__all__ = [
    "PROMPTS_DIR",
    "ChangelogEntry",
    "Criterion",
    "PromptFile",
    "PromptFileError",
    "list_prompts",
    "load_prompt",
    "load_prompt_file",
    "load_prompt_version",
    "parse_prompt_file",
    "parse_semver",
]

PROMPTS_DIR = Path(str(resources.files("course_lib") / "data" / "prompts"))
"""Where the course's versioned prompt files live (lesson 03)."""

_SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def parse_semver(version: str) -> tuple[int, int, int]:
    """``"2.1.0"`` → ``(2, 1, 0)``; raise ``ValueError`` for anything but MAJOR.MINOR.PATCH (lesson 03)."""
    match = _SEMVER.fullmatch(version.strip()) if isinstance(version, str) else None
    if not match:
        hint = " (drop the leading 'v')" if str(version).lower().startswith("v") else ""
        raise ValueError(f"{version!r} is not a semantic version MAJOR.MINOR.PATCH such as 2.1.0{hint}")
    return int(match[1]), int(match[2]), int(match[3])


def _check_semver(version: str) -> str:
    parse_semver(version)
    return version.strip()


SemVer = Annotated[str, AfterValidator(_check_semver)]


class ChangelogEntry(BaseModel):
    """One release of a prompt: version, date and what changed (lesson 03)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: SemVer
    date: dt.date
    summary: str = Field(min_length=1)


class Criterion(BaseModel):
    """An acceptance criterion such as ``accuracy >= 0.95`` that a prompt version must meet (lesson 03)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str = Field(min_length=1)
    op: Literal[">", ">=", "<", "<="]
    target: float
    unit: str = ""
    description: str = ""
    eval: str = ""
    """The eval that measures this metric, by name (:data:`course_lib.evals.criteria.EVALS`) (lesson 11)."""

    def passes(self, value: float) -> bool:
        """Whether a measured ``value`` meets the criterion."""
        return {
            ">": value > self.target,
            ">=": value >= self.target,
            "<": value < self.target,
            "<=": value <= self.target,
        }[self.op]

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.target:g}{(' ' + self.unit) if self.unit else ''}"


class PromptFile(BaseModel):
    """A versioned prompt: owner, system prompt, examples, acceptance criteria, changelog (lesson 03)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    description: str = ""
    version: SemVer
    last_updated: dt.date
    owner: str
    system_prompt: str
    examples: list[Example] = Field(default_factory=list)
    evaluation: list[Criterion] = Field(min_length=1)
    changelog: list[ChangelogEntry] = Field(min_length=1)

    @field_validator("owner")
    @classmethod
    def _owner_is_contact(cls, owner: str) -> str:
        if not _EMAIL.fullmatch(owner.strip()):
            raise ValueError(f"owner {owner!r} must be a contact email, e.g. support-team@example.com")
        return owner.strip()

    @field_validator("system_prompt")
    @classmethod
    def _prompt_not_empty(cls, text: str) -> str:
        return _require_text(text, "system_prompt").strip()

    @field_validator("evaluation")
    @classmethod
    def _metrics_unique(cls, criteria: list[Criterion]) -> list[Criterion]:
        seen = [c.metric for c in criteria]
        dupes = sorted({m for m in seen if seen.count(m) > 1})
        if dupes:
            raise ValueError(f"metric(s) {dupes} appear more than once; give each metric one criterion")
        return criteria

    @field_validator("changelog")
    @classmethod
    def _newest_first(cls, entries: list[ChangelogEntry]) -> list[ChangelogEntry]:
        for i in range(1, len(entries)):
            newer, older = entries[i - 1], entries[i]
            if parse_semver(newer.version) <= parse_semver(older.version):
                raise ValueError(
                    f"entries must be newest first with distinct versions: entry {i - 1} is "
                    f"{newer.version} but entry {i} is {older.version}"
                )
            if newer.date < older.date:
                raise ValueError(
                    f"entry {i - 1} ({newer.version}, {newer.date}) is dated before entry {i} "
                    f"({older.version}, {older.date}); newer releases cannot be older"
                )
        return entries

    @model_validator(mode="after")
    def _matches_changelog(self) -> PromptFile:
        latest = self.changelog[0]
        if self.version != latest.version:
            raise ValueError(
                f"version is {self.version} but the newest changelog entry is {latest.version}: "
                "add a changelog entry for this version (newest first) or fix the version"
            )
        if self.last_updated != latest.date:
            raise ValueError(
                f"last_updated is {self.last_updated} but the newest changelog entry is dated {latest.date}: "
                "every change needs a changelog entry"
            )
        return self

    def messages(self, text: str) -> list[dict[str, Any]]:
        """The request for ``text``: system prompt, the file's examples as few-shot turns, then the text."""
        return few_shot_messages(self.examples, text, system=self.system_prompt)

    def check(self, measured: Mapping[str, float]) -> dict[str, bool]:
        """Which acceptance criteria the ``measured`` metrics meet, by metric; a missing metric fails."""
        return {c.metric: c.metric in measured and c.passes(measured[c.metric]) for c in self.evaluation}

    def release(self, version: str, date: dt.date, summary: str, **changes: Any) -> PromptFile:
        """A new version of this prompt with ``changes`` applied and a changelog entry on top (validated)."""
        data = self.model_dump()
        data.update(changes)
        entry = {"version": version, "date": date, "summary": summary}
        data.update(version=version, last_updated=date, changelog=[entry, *data["changelog"]])
        return PromptFile.model_validate(data)


class PromptFileError(ValueError):
    """A prompt file is missing, unreadable or invalid; the message names file and field (lesson 03)."""


def _field_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _describe(error: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid prompt file ({error.error_count()} problem(s)):"]
    for e in error.errors():
        where = _field_path(e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "missing":
            msg = "missing: add this field to the file"
        elif e["type"] == "extra_forbidden":
            msg = "unknown field (a typo?); remove it or check the spelling"
        lines.append(f"  - field '{where}': {msg}" if where else f"  - {msg}")
    return "\n".join(lines)


def _load_toml(text: str) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise PromptFileError(
                "reading TOML prompt files needs Python 3.11+ or the 'tomli' package "
                "(pip install tomli); or store the prompt as .json with the same fields"
            ) from None
    return tomllib.loads(text)


def parse_prompt_file(
    text: str, *, fmt: Literal["toml", "json"] = "toml", source: str = "<text>"
) -> PromptFile:
    """Parse and validate a prompt file's text; errors name ``source`` and the field (lesson 03)."""
    try:
        data = _load_toml(text) if fmt == "toml" else json.loads(text)
    except PromptFileError:
        raise
    except ValueError as exc:  # tomllib.TOMLDecodeError and json.JSONDecodeError are ValueErrors
        raise PromptFileError(f"{source}: not valid {fmt.upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise PromptFileError(f"{source}: expected a table of fields at the top level")
    try:
        return PromptFile.model_validate(data)
    except ValidationError as exc:
        raise PromptFileError(_describe(exc, source)) from None


def load_prompt_file(path: str | Path) -> PromptFile:
    """Load a ``.toml`` or ``.json`` prompt file; its ``name`` must match the file name (lesson 03)."""
    path = Path(path)
    fmt = {".toml": "toml", ".json": "json"}.get(path.suffix)
    if fmt is None:
        raise PromptFileError(f"{path}: unsupported prompt file type {path.suffix!r}; use .toml or .json")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptFileError(f"{path}: cannot read the prompt file ({exc.strerror or exc})") from None
    prompt = parse_prompt_file(text, fmt=fmt, source=str(path))  # type: ignore[arg-type]
    if prompt.name != path.stem:
        raise PromptFileError(f"{path}: field 'name' is {prompt.name!r} but the file is named {path.stem!r}")
    return prompt


def load_prompt_version(name: str, version: str, directory: str | Path = PROMPTS_DIR) -> PromptFile:
    """Version ``version`` of prompt ``name``: the current file, or ``history/<name>/<version>.toml`` (lesson 11)."""
    current = load_prompt(name, directory)
    if current.version == version:
        return current
    path = Path(directory) / "history" / name / f"{version}.toml"
    if not path.exists():
        raise PromptFileError(f"{path}: no version {version} of prompt {name!r} (current: {current.version})")
    text = path.read_text(encoding="utf-8")
    prompt = parse_prompt_file(text, source=str(path))
    if (prompt.name, prompt.version) != (name, version):
        raise PromptFileError(f"{path}: holds {prompt.name} {prompt.version}, expected {name} {version}")
    return prompt


def list_prompts(directory: str | Path = PROMPTS_DIR) -> list[str]:
    """Names of the prompt files in ``directory`` (default: the course's prompts), sorted (lesson 03)."""
    return sorted(p.stem for p in Path(directory).iterdir() if p.suffix in (".toml", ".json"))


def load_prompt(name: str, directory: str | Path = PROMPTS_DIR) -> PromptFile:
    """Load the prompt called ``name`` from ``directory`` (default: the course's prompts) (lesson 03)."""
    for suffix in (".toml", ".json"):
        path = Path(directory) / f"{name}{suffix}"
        if path.exists():
            return load_prompt_file(path)
    known = ", ".join(list_prompts(directory)) or "none"
    raise PromptFileError(f"no prompt named {name!r} in {directory} (available: {known})")
