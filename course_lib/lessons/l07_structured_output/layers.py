"""The measured layer experiment of lesson 07: a contact-extraction task, its prompts and its runner.

:class:`Contact` is a small schema on which the lesson measures the four enforcement layers (prompt
rules, JSON mode, pydantic validation, self-correction) with a real small model: 24 short texts, the
a common rules-with-example prompt and ours. Given ``context={"source": text}`` its validator also checks that every
value was copied from the text, which catches a model that echoes the prompt's example answer.
:func:`run_contact_experiment` makes every call in a fixed order, so a replay of a recorded run gets
the same answers; :mod:`course_lib.lessons.l07_structured_output.widgets` turns its outputs into the lesson's figures.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from course_lib.lessons.l07_structured_output.etl import EMAIL_PATTERN
from course_lib.validators import ValidationAttempt, ValidationFailedError, generate_validated

__all__ = [
    "CONTACT_PARAMS",
    "CONTACT_TEXTS",
    "JSON_MODE",
    "NAIVE_PROMPT",
    "RULES_PROMPT",
    "RULES_WITH_EXAMPLE_PROMPT",
    "Contact",
    "ContactExperiment",
    "PromptStyle",
    "contact_messages",
    "correction_runs",
    "run_contact_experiment",
]


class Contact(BaseModel):
    """A person's contact details; with ``context={"source": text}`` each value must come from the text (lesson 07)."""

    name: str = Field(min_length=1)
    age: int = Field(ge=0, le=120)
    city: str = Field(min_length=1)
    email: str = Field(pattern=EMAIL_PATTERN)

    @field_validator("name", "city")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    @model_validator(mode="after")
    def _copied_from_source(self, info: ValidationInfo) -> Contact:
        source = (info.context or {}).get("source")
        if source is None:
            return self
        text = source.casefold()
        missing = [
            f"{key}={getattr(self, key)!r}"
            for key in ("name", "city", "email")
            if getattr(self, key).casefold() not in text
        ]
        if not re.search(rf"(?<![0-9]){self.age}(?![0-9])", source):
            missing.append(f"age={self.age}")
        if missing:
            raise ValueError(
                f"not in the text: {', '.join(missing)}; copy each value from the text, do not invent it"
            )
        return self


#: 24 short texts, each naming one person's name, age, city and email, phrased differently (lesson 07).
CONTACT_TEXTS: tuple[str, ...] = (
    "John Smith, age 35, lives in Seattle, email john@example.com",
    "Maria Garcia is 42 years old and lives in Madrid. Reach her at maria.garcia@example.org.",
    "Contact: Wei Chen (28), based in Toronto, wei.chen@example.net",
    "New signup from Oslo: Ingrid Berg, 51. Email ingrid.berg@example.no",
    "Hi, I'm Tom Baker, 67, retired in Cardiff. Write to tom.baker@example.co.uk",
    "Priya Nair | 31 | Bangalore | priya.nair@example.in",
    "Name: Lukas Weber; Age: 23; City: Berlin; Mail: lukas.weber@example.de",
    "Our new customer Aiko Tanaka (age 45) lives in Osaka and uses aiko.tanaka@example.jp.",
    "Carlos Mendes, 39 years, Lisbon, carlos.mendes@example.pt",
    "Please register Fatima Zahra, 27, from Casablanca, fatima.zahra@example.ma",
    "Olga Ivanova (60) moved to Riga last year; her address is olga.ivanova@example.lv",
    "From the form: name=Sam Lee, age=19, city=Austin, email=sam.lee@example.com",
    "Short bio: Ada Byrne, 36, Dublin, ada.byrne@example.ie",
    "Noah Williams is a 44-year-old engineer in Denver (noah.williams@example.com).",
    "Emma Rossi, Rome, 29 anni, emma.rossi@example.it",
    "Kwame Mensah, aged 33, Accra. Contact kwame.mensah@example.com.gh",
    "Lena Novak lives in Prague. She is 48. lena.novak@example.cz",
    "Dear team, add Omar Haddad (age 55, Amman) with email omar.haddad@example.jo",
    "Sofia Lindqvist; 38; Stockholm; sofia.lindqvist@example.se",
    "Jack O'Neill, 41, from Boston: jack.oneill@example.com",
    "Age 26, city Helsinki, name Mikko Virtanen, email mikko.virtanen@example.fi",
    "Chloe Martin (34) Paris chloe.martin@example.fr",
    "Ravi Kumar from Chennai is 22; email: ravi.kumar@example.in",
    "Hannah Schmidt, Vienna, 57, hannah.schmidt@example.at",
)

#: A naive request: no rules, no schema (lesson 07).
NAIVE_PROMPT = "Extract the user's information as JSON.\nInput: {text}"

#: A common layer-1 system prompt: strict rules and one example answer (lesson 07).
RULES_WITH_EXAMPLE_PROMPT = """\
You are a parser that only outputs JSON. Rules:
1. Output only a JSON object, with no text before or after it.
2. No markdown code fences.
3. Put strings in double quotes.
4. Required keys: name, age, city, email.
5. Types: name string, age integer, city string, email string.
Example output:
{"name": "Jane Doe", "age": 30, "city": "Portland", "email": "jane@example.com"}"""

#: Our layer-1 system prompt: the same rules without an example the model could copy (lesson 07).
RULES_PROMPT = """\
You extract contact details from a text. Reply with one JSON object and nothing else.
Keys: "name" (the person's full name), "age" (an integer), "city" (string), "email" (the email address).
Copy every value from the text."""

#: Which prompt a contact request uses (lesson 07).
PromptStyle = Literal["naive", "rules_with_example", "rules"]

#: Parameters of every contact-extraction call (deterministic, short answers) (lesson 07).
CONTACT_PARAMS: dict[str, Any] = {"temperature": 0, "max_tokens": 80}
#: The extra parameter that turns JSON mode on (layer 2) (lesson 07).
JSON_MODE: dict[str, Any] = {"response_format": {"type": "json_object"}}


def contact_messages(text: str, style: PromptStyle = "rules") -> list[dict[str, str]]:
    """The contact-extraction request with the naive, the rules-with-example or our prompt (lesson 07)."""
    if style == "naive":
        return [{"role": "user", "content": NAIVE_PROMPT.format(text=text)}]
    system = {"rules_with_example": RULES_WITH_EXAMPLE_PROMPT, "rules": RULES_PROMPT}.get(style)
    if system is None:
        raise ValueError(f"unknown prompt style {style!r}; use 'naive', 'rules_with_example' or 'rules'")
    return [{"role": "system", "content": system}, {"role": "user", "content": f"Text: {text}"}]


@dataclass(frozen=True)
class ContactExperiment:
    """Raw outputs of the layer experiment, per text: three prompts, then two correction loops (lesson 07)."""

    texts: tuple[str, ...]
    outputs: dict[str, list[str]]
    """Prompt style -> the raw reply to each text (layer 1 only: no JSON mode, no retries)."""
    loops: list[list[ValidationAttempt]]
    """Per text, every attempt of the full stack: our prompt + JSON mode + validation + correction."""
    prompt_only_loops: list[list[ValidationAttempt]]
    """Per text, every attempt of the same loop without JSON mode."""


def correction_runs(
    provider: Any, texts: Sequence[str], *, max_attempts: int, json_mode: bool
) -> list[list[ValidationAttempt]]:
    """Every attempt of ``generate_validated`` on each text, with our prompt, with or without JSON mode (lesson 07)."""
    params = {**CONTACT_PARAMS, **(JSON_MODE if json_mode else {})}
    runs: list[list[ValidationAttempt]] = []
    for text in texts:
        try:
            done = generate_validated(
                provider,
                contact_messages(text, "rules"),
                Contact,
                max_attempts,
                params=params,
                context={"source": text},
            )
        except ValidationFailedError as exc:
            runs.append(list(exc.attempts))
        else:
            runs.append(list(done.attempts))
    return runs


def run_contact_experiment(
    provider: Any, texts: Sequence[str] = CONTACT_TEXTS, *, max_attempts: int = 4
) -> ContactExperiment:
    """Ask for every text with each prompt, then run the correction loop with and without JSON mode (lesson 07).

    The calls are made in a fixed order, so a replay of a recorded run gets the same answers. The
    loop without JSON mode starts with the very request of the ``rules`` prompt, so that request is
    sent twice (at temperature 0; a recording holds two samples of it).
    """
    outputs: dict[str, list[str]] = {}
    for style in ("naive", "rules_with_example", "rules"):
        outputs[style] = [
            provider.complete(contact_messages(text, style), **CONTACT_PARAMS).text for text in texts
        ]
    loops = correction_runs(provider, texts, max_attempts=max_attempts, json_mode=True)
    prompt_only = correction_runs(provider, texts, max_attempts=max_attempts, json_mode=False)
    return ContactExperiment(tuple(texts), outputs, loops, prompt_only)
