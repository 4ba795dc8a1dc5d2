"""Key-shaped text, found before it leaves the machine: one pattern per token family (lessons 00 and 12).

Recording refuses a request whose prompt carries something shaped like a credential *before* sending
it upstream (where it would be billed and logged), and refuses to write a recording that contains one.
Each family has its own pattern, tested with made-up tokens of the real shapes:

========================  ==================================================================
family                    shape
========================  ==================================================================
``github``                ``ghp_`` / ``gho_`` / ``ghu_`` / ``ghs_`` / ``ghr_`` + 36 characters, ``github_pat_…``
``aws-access-key``        ``AKIA`` / ``ASIA`` + 16 upper-case letters or digits
``aws-secret-key``        40 base64 characters assigned to an ``aws…secret…`` name
``slack``                 ``xoxb-`` / ``xoxp-`` / ``xoxa-`` / ``xoxr-`` / ``xoxs-`` / ``xoxo-`` tokens, Slack webhooks
``google``                ``AIza`` + 35 characters
``huggingface``           ``hf_`` + 30 or more letters and digits
``anthropic``             ``sk-ant-…``
``openai``                ``sk-…`` and ``sk-proj-…``
``private-key``           ``-----BEGIN … PRIVATE KEY-----``
``bearer``                ``Bearer <token>`` and an ``"authorization"`` header
``assignment``            ``api_key=…``, ``secret_key: …``, ``access_token=…``, ``password=…`` in text
========================  ==================================================================

**The course's own fake secrets.** The security lesson needs key-shaped examples. Each one carries the
marker :data:`FAKE_SECRET_MARKER` (``FAKE-COURSE-SECRET``) inside the same token, e.g. ``sk-`` followed
by the marker and sixteen zeros; a match whose token holds the marker is allowed. Nothing else
key-shaped is recorded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "FAKE_SECRET_MARKER",
    "SECRET_FAMILIES",
    "SecretFound",
    "SecretMatch",
    "check_text",
    "find_secrets",
]

FAKE_SECRET_MARKER = "FAKE-COURSE-SECRET"
"""The marker that makes a key-shaped token one of the course's own fakes (allowed)."""

_KEYCHARS = r"A-Za-z0-9_\-"
SECRET_FAMILIES: dict[str, re.Pattern[str]] = {
    "github": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"),
    "aws-access-key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "aws-secret-key": re.compile(
        r"(?i)aws[A-Za-z0-9_\-. ]{0,30}?(?:secret|private)[A-Za-z0-9_\-. ]{0,20}?['\"]?\s*[:=]\s*['\"]?"
        r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"
    ),
    "slack": re.compile(
        r"\bxox[abposr]-[A-Za-z0-9\-]{10,}|https://hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+"
    ),
    "google": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"),
    "huggingface": re.compile(r"\bhf_[A-Za-z0-9]{30,}"),
    "anthropic": re.compile(rf"\bsk-ant-[{_KEYCHARS}]{{20,}}"),
    "openai": re.compile(rf"\bsk-(?:proj-|svcacct-|admin-)?[{_KEYCHARS}]{{20,}}"),
    "private-key": re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----"),
    "bearer": re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/\-]{8,}=*|\"authorization\"\s*:"),
    "assignment": re.compile(
        r"(?i)\b(?:api[_\-]?key|apikey|secret[_\-]?key|client[_\-]?secret|access[_\-]?token|auth[_\-]?token"
        r"|password|passwd)\b['\"]?\s*[:=]\s*['\"]?(?![<{$]|os\.|env\b|getenv|process\.env)[^\s'\"<>{}(),;\[\]]{8,}"
    ),
}


@dataclass(frozen=True)
class SecretMatch:
    """One key-shaped piece of text: its family, where it starts, and a masked preview."""

    family: str
    start: int
    preview: str


class SecretFound(ValueError):
    """Text that is about to leave the machine or be stored holds something shaped like a credential."""

    def __init__(self, message: str, matches: list[SecretMatch]) -> None:
        super().__init__(message)
        self.matches = matches


def _token_around(text: str, start: int, end: int) -> str:
    stop = " \t\r\n\"'`<>()[]{},;"
    left, right = start, end
    while left > 0 and text[left - 1] not in stop:
        left -= 1
    while right < len(text) and text[right] not in stop:
        right += 1
    return text[left:right]


def _mask(found: str) -> str:
    return found[:6] + "…" if len(found) > 6 else "…"


def find_secrets(text: str) -> list[SecretMatch]:
    """Every key-shaped match in ``text``, except the course's own marked fakes (lesson 12)."""
    found: list[SecretMatch] = []
    for family, pattern in SECRET_FAMILIES.items():
        for match in pattern.finditer(text):
            token = _token_around(text, match.start(), match.end())
            if FAKE_SECRET_MARKER in match.group(0) or FAKE_SECRET_MARKER in token:
                continue
            found.append(SecretMatch(family, match.start(), _mask(match.group(0))))
    return sorted(found, key=lambda m: m.start)


def check_text(text: str, *, what: str = "this text") -> None:
    """Raise :class:`SecretFound` naming the families found in ``text``; do nothing when it is clean."""
    matches = find_secrets(text)
    if matches:
        families = ", ".join(sorted({m.family for m in matches}))
        shown = ", ".join(f"{m.family} {m.preview}" for m in matches[:3])
        raise SecretFound(
            f"{what} holds something shaped like a credential ({families}: {shown}). Remove it, or if it is "
            f"one of the course's made-up examples, put {FAKE_SECRET_MARKER} inside it.",
            matches,
        )
