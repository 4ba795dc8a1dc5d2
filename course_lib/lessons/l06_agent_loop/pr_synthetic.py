"""A synthetic 50-file pull request with known, planted problems, built from a seed (lesson 06).

The checkpoint of lesson 06 reviews a large pull request. Real ones carry other people's code and
licences, so the course generates one: "Team billing", 50 files across API handlers, domain logic,
storage, jobs, migrations, tests, a web client, configuration and docs, as real unified diffs
(``difflib``). Some files carry planted problems (SQL built with f-strings, money in floats, a
missing authorisation check …) whose line numbers are known, so a review can be checked against
them. The code templates live in ``course_lib/data/pr_review/templates.txt``. The same seed always
gives the same pull request, byte for byte.
"""

from __future__ import annotations

import difflib
import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from string import Template

__all__ = ["ISSUE_KINDS", "IssueKind", "PRFile", "PlantedIssue", "SyntheticPR", "synthetic_pr"]

_TEMPLATES = resources.files("course_lib") / "data" / "pr_review" / "templates.txt"
_MARK = "  #!"


@dataclass(frozen=True)
class IssueKind:
    """A kind of problem the generator can plant: its severity (1-10) and what a reviewer would say (lesson 06)."""

    kind: str
    severity: int
    title: str
    file_kind: str
    count: int


ISSUE_KINDS: dict[str, IssueKind] = {
    k.kind: k
    for k in (
        IssueKind(
            "sql_injection", 9, "SQL built with an f-string from request input (SQL injection)", "storage", 3
        ),
        IssueKind(
            "missing_auth_check", 8, "endpoint never checks that the caller belongs to the team", "api", 3
        ),
        IssueKind(
            "debug_enabled", 7, "debug and SQL logging switched on in the production config", "config", 1
        ),
        IssueKind("float_money", 6, "money computed in binary floating point; cents drift", "domain", 3),
        IssueKind("missing_none_check", 6, "the plan can be None for a team without one: a 500", "domain", 2),
        IssueKind("unbounded_retry", 6, "retries forever with no backoff and no limit", "jobs", 1),
        IssueKind("n_plus_one", 5, "one query per item inside a loop (N+1 queries)", "storage", 1),
        IssueKind("off_by_one_pagination", 5, "a page returns size + 1 rows; the last repeats", "api", 1),
        IssueKind("missing_index", 5, "foreign-key column without an index", "migration", 1),
        IssueKind("broad_except", 4, "every exception swallowed silently", "jobs", 2),
        IssueKind("naive_datetime", 4, "naive local datetime.now() for a billing period", "jobs", 1),
        IssueKind("skipped_test", 3, "the double-payment test is skipped", "test", 1),
    )
}
"""What the generator plants and how often: 20 problems in all (lesson 06)."""


@dataclass(frozen=True)
class PlantedIssue:
    """A problem planted in a file: its kind, line in the new file, severity and description (lesson 06)."""

    kind: str
    line: int
    severity: int
    title: str


@dataclass(frozen=True)
class PRFile:
    """One file of the pull request: path, kind, added or modified, its unified diff and planted issues (lesson 06)."""

    path: str
    kind: str
    status: str
    diff: str
    added: int
    removed: int
    issues: tuple[PlantedIssue, ...] = ()

    @property
    def severity(self) -> int:
        """The most severe planted issue, 0 when the file is clean."""
        return max((i.severity for i in self.issues), default=0)


@dataclass(frozen=True)
class SyntheticPR:
    """A generated pull request: number, title, description and its files (lesson 06)."""

    number: int
    title: str
    description: str
    files: tuple[PRFile, ...] = field(default_factory=tuple)

    @property
    def issues(self) -> list[tuple[str, PlantedIssue]]:
        """Every planted issue with the path of its file."""
        return [(f.path, i) for f in self.files for i in f.issues]


@functools.lru_cache(maxsize=1)
def _templates() -> dict[str, str]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in _TEMPLATES.read_text(encoding="utf-8").splitlines():
        if line.startswith("=== "):
            current = sections.setdefault(line[4:].strip(), [])
        elif current is not None:
            current.append(line)
        # lines before the first section are the file's own comments
    return {name: "\n".join(lines).rstrip("\n") for name, lines in sections.items()}


ENTITIES = (
    "invoice", "credit_note", "payment", "seat", "plan_change", "usage_record",
    "discount", "tax_rate", "statement", "refund", "meter", "subscription",
)  # fmt: skip
_BLOCKS = {
    "api": ["py.api.serialize", "py.api.list", "py.api.get", "py.api.create", "py.api.update", "py.api.delete"],
    "domain": ["py.domain.model", "py.domain.total", "py.domain.prorate", "py.domain.tax",
               "py.domain.transition", "py.domain.summary"],
    "storage": ["py.storage.get", "py.storage.for_team", "py.storage.insert", "py.storage.soft_delete"],
    "jobs": ["py.jobs.run", "py.jobs.handle"],
}  # fmt: skip
_LAYOUT = (  # (kind, number of files)
    ("api", 8), ("domain", 8), ("storage", 7), ("jobs", 4), ("migration", 3),
    ("test", 10), ("web", 5), ("config", 2), ("doc", 3),
)  # fmt: skip
_CASES = ("is_scoped_to_team", "starts_as_draft", "keeps_its_amount", "is_listed", "can_be_voided")


def _fill(name: str, entity: str, **extra: str) -> str:
    camel = "".join(part.title() for part in entity.split("_"))
    values = {"entity": entity, "Entity": camel, "plural": entity + "s", "table": entity + "s", **extra}
    return Template(_templates()[name]).substitute(values)


def _path(kind: str, entity: str, index: int) -> str:
    camel = "".join(part.title() for part in entity.split("_"))
    return {
        "api": f"services/billing/api/{entity}s.py",
        "domain": f"services/billing/domain/{entity}.py",
        "storage": f"services/billing/storage/{entity}_store.py",
        "jobs": f"services/billing/jobs/close_{entity}s.py",
        "migration": f"services/billing/migrations/{41 + index:04d}_create_{entity}s.py",
        "test": f"services/billing/tests/test_{entity}s.py",
        "web": f"web/src/billing/{camel}Table.tsx",
        "config": ("config/billing/production.yaml", "config/billing/staging.yaml")[index % 2],
        "doc": f"docs/billing/{entity}s.md",
    }[kind]


def _body(kind: str, entities: Sequence[str], rng: random.Random) -> list[str]:
    """The blocks of a file without planted issues, each a multi-line string."""
    lead, title = entities[0], f"Team billing: {', '.join(e.replace('_', ' ') + 's' for e in entities)}"
    if kind in ("api", "domain", "jobs"):
        blocks = [_fill("py.header", lead, title=title)]
        for entity in entities:
            names = _BLOCKS[kind]
            chosen = (
                names
                if kind == "jobs"
                else [names[0], *rng.sample(names[1:], rng.randint(2, len(names) - 1))]
            )
            blocks += [_fill(n, entity) for n in chosen]
        return blocks
    if kind == "storage":
        blocks = [_fill("py.header", lead, title=title)]
        for entity in entities:
            blocks += [_fill("py.storage.class", entity)] + [_fill(n, entity) for n in _BLOCKS["storage"]]
        return blocks
    if kind == "migration":
        revision = f"{rng.getrandbits(48):012x}"
        return [_fill("py.migration", lead, title=f"create {lead}s", revision=revision, down_revision="prev")]
    if kind == "test":
        blocks = [_fill("py.test.header", lead, title=title)]
        for entity in entities:
            blocks += [_fill("py.test.case", entity, case=c) for c in rng.sample(_CASES, rng.randint(2, 5))]
            if rng.random() < 0.5:
                blocks.append(_fill("py.test.prorate", entity, case=entity))
        return blocks
    if kind == "web":
        blocks = [_fill("ts.header", lead, title=title)]
        for entity in entities:
            blocks += [_fill("ts.client", entity), _fill("ts.component", entity)]
        return blocks
    if kind == "config":
        return [_fill("yaml.config", lead, title="Billing settings")]
    return [_fill("md.doc", entity, title=f"Billing: {entity.replace('_', ' ')}s") for entity in entities]


def _render(blocks: Sequence[str], separator: str) -> tuple[list[str], list[int]]:
    """Join blocks into lines; return the lines (markers removed) and the 1-based marked line numbers."""
    lines: list[str] = []
    marked: list[int] = []
    for i, block in enumerate(blocks):
        if i:
            lines += [""] * (separator.count("\n") - 1)
        for line in block.split("\n"):
            if line.endswith(_MARK):
                marked.append(len(lines) + 1)
                line = line[: -len(_MARK)]
            lines.append(line)
    return lines, marked


def _separator(kind: str) -> str:
    return {"api": "\n\n\n", "domain": "\n\n\n", "jobs": "\n\n\n", "test": "\n\n\n"}.get(kind, "\n\n")


def _previous_version(kind: str, entity: str, body: list[str], rng: random.Random) -> list[str]:
    """The file before the pull request: fewer blocks (or lines), and a legacy helper the PR removes."""
    if len(body) > 2:
        kept = body[: len(body) - rng.randint(1, 2)]
    else:  # a one-block file: the PR added a few of its lines
        lines = body[-1].split("\n")
        drop = set(rng.sample(range(1, len(lines)), min(3, len(lines) - 1)))
        kept = [*body[:-1], "\n".join(x for i, x in enumerate(lines) if i not in drop)]
    if kind in ("api", "domain", "jobs", "storage"):
        kept.append(f"def legacy_{entity}_total(rows):\n    return sum(row['amount'] for row in rows)")
    return _render(kept, _separator(kind))[0]


def synthetic_pr(seed: int = 2718, n_files: int = 50) -> SyntheticPR:
    """Generate the lesson's pull request; the same seed gives the same files, diffs and issues (lesson 06).

    ``n_files`` below 50 keeps the first files of each kind in proportion (for quick tests).
    """
    if n_files < 1:
        raise ValueError(f"a pull request needs at least one file, got n_files={n_files}")
    rng = random.Random(seed)
    specs: list[tuple[str, list[str], int]] = []
    for kind, count in _LAYOUT:
        leads = rng.sample(ENTITIES, count)  # one file per lead entity: paths stay unique
        for index, lead in enumerate(leads):
            size = rng.choice((1, 1, 1, 2, 2, 3)) if kind not in ("migration", "config") else 1
            if kind in ("api", "domain", "storage", "test") and rng.random() < 0.15:
                size = rng.randint(4, 6)  # a few big files, as in any real pull request
            others = [e for e in ENTITIES if e != lead]
            specs.append((kind, [lead, *rng.sample(others, size - 1)], index))
    if n_files < len(specs):
        keep = sorted(rng.sample(range(len(specs)), n_files))
        specs = [specs[i] for i in keep]
    plants: dict[int, list[str]] = {}
    for issue in ISSUE_KINDS.values():
        candidates = [i for i, (kind, _, _) in enumerate(specs) if kind == issue.file_kind]
        if issue.kind == "debug_enabled":
            candidates = [i for i in candidates if specs[i][2] % 2 == 0]  # production, not staging
        for i in rng.sample(candidates, min(issue.count, len(candidates))):
            plants.setdefault(i, []).append(issue.kind)
    files = []
    for i, (kind, entities, index) in enumerate(specs):
        path = _path(kind, entities[0], index)
        body = _body(kind, entities, rng)
        planted = plants.get(i, [])
        blocks = body + [_fill(f"issue.{k}", entities[0]) for k in planted]
        if kind == "config":  # the debug block continues the YAML mapping
            blocks = ["\n".join(blocks)]
        new, marked = _render(blocks, _separator(kind))
        status = "modified" if kind not in ("migration",) and rng.random() < 0.4 else "added"
        if status == "modified":
            old, source = _previous_version(kind, entities[0], body, rng), f"a/{path}"
        else:
            old, source = [], "/dev/null"
        diff_lines = list(difflib.unified_diff(old, new, source, f"b/{path}", lineterm="", n=3))
        header = [f"diff --git a/{path} b/{path}"] + (["new file mode 100644"] if status == "added" else [])
        diff = "\n".join(header + diff_lines) + "\n"
        added = sum(1 for x in diff_lines if x.startswith("+") and not x.startswith("+++"))
        removed = sum(1 for x in diff_lines if x.startswith("-") and not x.startswith("---"))
        issues = tuple(
            PlantedIssue(k, line, ISSUE_KINDS[k].severity, ISSUE_KINDS[k].title)
            for k, line in zip(planted, marked, strict=True)
        )
        files.append(PRFile(path, kind, status, diff, added, removed, issues))
    return SyntheticPR(
        number=seed,
        title="Team billing: one invoice for every seat of a team",
        description=(
            "Adds team billing end to end: API handlers, domain rules for proration and tax, storage, "
            "the nightly closing jobs, migrations, tests, the billing tables in the web app, config and docs."
        ),
        files=tuple(files),
    )
