"""Redaction of PII and keys: checksum validators (property-based), the patterns, reversibility, the gateway."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.audit import AuditLog
from course_lib.gateway import Gateway
from course_lib.guards import ManualClock, TenantQuotas
from course_lib.providers.scripted import ScriptedProvider
from course_lib.redaction import (
    IBAN_LENGTHS,
    Redacting,
    Redaction,
    Redactor,
    find_pii,
    iban_valid,
    luhn_valid,
)

DIGITS = st.text(alphabet="0123456789", min_size=12, max_size=18)


def luhn_digit(payload: str) -> str:
    return next(d for d in "0123456789" if luhn_valid(payload + d))


def iban_with_check(country: str, bban: str) -> str:
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{country}{98 - number % 97:02d}{bban}"


@settings(deadline=None)
@given(DIGITS)
def test_exactly_one_check_digit_makes_a_number_luhn_valid(payload: str) -> None:
    assert sum(luhn_valid(payload + d) for d in "0123456789") == 1


@settings(deadline=None)
@given(DIGITS, st.data())
def test_luhn_catches_every_single_digit_error(payload: str, data: st.DataObject) -> None:
    number = payload + luhn_digit(payload)
    i = data.draw(st.integers(0, len(number) - 1))
    wrong = data.draw(st.sampled_from([d for d in "0123456789" if d != number[i]]))
    assert not luhn_valid(number[:i] + wrong + number[i + 1 :])


@pytest.mark.parametrize(
    "card", ["4111 1111 1111 1111", "5500-0000-0000-0004", "378282246310005", "6011111111111117"]
)
def test_known_test_cards_pass_luhn(card: str) -> None:
    assert luhn_valid(card)


@pytest.mark.parametrize("bad", ["", "4", "4111 1111 1111 1112", "abcd", "٤١١١١١١١١١١١١١١١"])
def test_non_cards_fail_luhn(bad: str) -> None:
    assert not luhn_valid(bad)


@pytest.mark.parametrize(
    "iban",
    [
        "DE89 3704 0044 0532 0130 00",
        "GB82WEST12345698765432",
        "NL91ABNA0417164300",
        "FR1420041010050500013M02606",
    ],
)
def test_published_example_ibans_are_valid(iban: str) -> None:
    assert iban_valid(iban)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(IBAN_LENGTHS)), st.data())
def test_generated_ibans_validate_and_every_single_digit_error_is_caught(
    country: str, data: st.DataObject
) -> None:
    alphabet = string.digits + string.ascii_uppercase
    bban = data.draw(
        st.text(alphabet=alphabet, min_size=IBAN_LENGTHS[country] - 4, max_size=IBAN_LENGTHS[country] - 4)
    )
    iban = iban_with_check(country, bban)
    assert iban_valid(iban)
    # mod 97 catches every change of one digit for another (a letter becomes two digits: no such promise)
    i = data.draw(st.sampled_from([k for k in range(2, len(iban)) if iban[k].isdigit()]))
    wrong = data.draw(st.sampled_from([c for c in string.digits if c != iban[i]]))
    assert not iban_valid(iban[:i] + wrong + iban[i + 1 :])


def test_iban_with_the_wrong_length_for_its_country_fails() -> None:
    assert not iban_valid("DE89 3704 0044 0532 0130 0")  # 21 characters, Germany has 22
    assert not iban_valid("XX")


FAKE_KEY = "sk-" + "FAKE-COURSE-SECRET-" + "0" * 16  # built at run time: no key-shaped text in the file
TEXT = (
    "From dana.k@example.com, phone +44 20 7946 0958 or (555) 123-4567. Card 4111 1111 1111 1111, "
    f"IBAN DE89 3704 0044 0532 0130 00 AND key {FAKE_KEY}."
)


def test_every_kind_is_found_and_replaced() -> None:
    redacted, redaction = Redactor().redact(TEXT)
    assert redaction.counts() == {"API_KEY": 1, "CARD": 1, "EMAIL": 1, "IBAN": 1, "PHONE": 2}
    for value in redaction.values.values():
        assert value not in redacted
    assert "<IBAN_1> AND" in redacted  # the capitalised word after the IBAN is not swallowed
    assert redaction.restore(redacted) == TEXT


@pytest.mark.parametrize(
    "text",
    [
        "Order 4417 shipped on 2024-01-15.",
        "Card 4111 1111 1111 1112 fails Luhn.",
        "Reference DE00 1234 5678 9012 3456 78 fails mod 97.",
        "Version 3.12.4 and port 8765.",
        "Invoice 20240115 total 1234567.",
    ],
)
def test_lookalikes_are_left_alone(text: str) -> None:
    assert find_pii(text) == []


def test_the_same_value_gets_the_same_placeholder() -> None:
    redacted, redaction = Redactor().redact("a@example.com wrote to b@example.com, cc a@example.com")
    assert redacted == "<EMAIL_1> wrote to <EMAIL_2>, cc <EMAIL_1>"
    assert "a@example.com" not in repr(redaction)


@settings(deadline=None)
@given(
    st.text(alphabet=string.ascii_letters + " .,", max_size=30),
    DIGITS,
    st.text(alphabet=string.ascii_letters + " .,", max_size=30),
)
def test_a_valid_card_anywhere_in_text_is_redacted_and_restored(left: str, payload: str, right: str) -> None:
    card = payload + luhn_digit(payload)
    text = f"{left} {card} {right}"
    redacted, redaction = Redactor(kinds=("CARD",)).redact(text)
    assert card not in redacted and redaction.values == {"<CARD_1>": card}
    assert redaction.restore(redacted) == text


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown kinds"):
        Redactor(kinds=("SSN",))


def test_redacting_provider_sends_placeholders_restores_the_answer_and_audits_counts() -> None:
    upstream = ScriptedProvider(lambda messages, params: f"Replying to {messages[-1]['content'].split()[0]}")
    audit = AuditLog(clock=lambda: 0.0)
    provider = Redacting(upstream, audit=audit, who="team-support")
    result = provider.complete([{"role": "user", "content": TEXT}])
    sent = upstream.calls[0].messages[-1]["content"]
    assert sent.startswith("From <EMAIL_1>") and "4111" not in sent
    assert result.text == "Replying to From"  # first word; no placeholder to restore
    record = audit.records()[0]
    assert record.who == "team-support" and record.redactions["PHONE"] == 2 and record.outcome == "ok"
    kept = Redacting(ScriptedProvider(lambda m, p: m[-1]["content"]), restore=False)
    assert "<CARD_1>" in kept.complete([{"role": "user", "content": TEXT}]).text
    back = Redacting(ScriptedProvider(lambda m, p: m[-1]["content"]))
    assert back.complete([{"role": "user", "content": TEXT}]).text == TEXT


def test_gateway_redacts_before_cache_and_vendor_and_the_audit_log_holds_no_value(tmp_path) -> None:
    clock = ManualClock()
    vendor = ScriptedProvider(
        lambda m, p: "We will call you at <PHONE_1>." if "<PHONE_1>" in m[-1]["content"] else "ok",
        model="gpt-4o-mini",
    )
    audit = AuditLog(tmp_path / "audit.jsonl", clock=clock)
    gateway = Gateway(
        {"fast": [vendor]},
        quotas=TenantQuotas({"team-a": 100_000}, clock=clock),
        clock=clock,
        redactor=Redactor(),
        audit=audit,
    )
    answer = gateway.complete([{"role": "user", "content": TEXT}], tenant="team-a")
    assert answer.text == "We will call you at +44 20 7946 0958."  # restored for the reader
    assert all("dana.k@example.com" not in str(c.messages) for c in vendor.calls)
    assert all("dana.k@example.com" not in repr(entry) for entry in gateway.cache.__dict__.values())
    gateway.complete([{"role": "user", "content": "plain question"}], tenant="team-a")
    _, redaction = Redactor().redact(TEXT)
    log = (tmp_path / "audit.jsonl").read_text()
    assert len(redaction.values) == 6
    for value in redaction.values.values():
        assert value not in log
        assert value.replace(" ", "") not in log.replace(" ", "")
    records = audit.records()
    assert [r.who for r in records] == ["team-a", "team-a"] and records[0].model == "gpt-4o-mini"
    assert records[0].redactions == redaction.counts() and records[1].redactions == {}
    assert records[0].cost_usd is not None and records[0].prompt_tokens > 0
    assert audit.verify() == []


def test_redaction_repr_shows_counts_only() -> None:
    redaction = Redaction()
    redaction.placeholder("EMAIL", "x@example.com")
    assert repr(redaction) == "Redaction({'EMAIL': 1})"
