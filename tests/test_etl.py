"""Tests for lesson 07's library code: the email ETL with its DLQ, the layer experiment, its measurements and plots."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from course_lib.dlq import DeadLetterQueue, ResolutionRejectedError
from course_lib.lessons.l07_structured_output.etl import (
    SAMPLE_EMAILS,
    TICKET_SYSTEM_PROMPT,
    IssueType,
    SupportEmail,
    SupportTicket,
    TicketStore,
    email_processor,
    extract_ticket,
    resolve_and_load,
    run_etl,
    ticket_messages,
)
from course_lib.lessons.l07_structured_output.layers import (
    CONTACT_TEXTS,
    Contact,
    contact_messages,
    run_contact_experiment,
)
from course_lib.lessons.l07_structured_output.widgets import (
    attempt_budget,
    cumulative_success,
    first_success,
    repeated_retries,
    success_by_attempt,
    tally_outputs,
)
from course_lib.providers.base import Usage
from course_lib.providers.faulty import FaultyProvider
from course_lib.providers.scripted import ScriptedProvider
from course_lib.tokens import count_message_tokens, count_tokens
from course_lib.validators import ValidationAttempt, ValidationFailedError, parse_output

EMAIL = SupportEmail(
    id="e-1",
    sender="ann@example.com",
    subject="Late parcel",
    body="Order 12345 from 1 December has not arrived.\nAnn Lee",
    received=date(2024, 12, 10),
)
GOOD = {
    "customer_email": "ann@example.com",
    "order_id": "12345",
    "issue_type": "delivery_issue",
    "order_date": "2024-12-01",
    "customer_name": "Ann Lee",
}


def reply(**changes: object) -> str:
    return json.dumps({**GOOD, **changes})


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def dlq(tmp_path):
    with DeadLetterQueue(tmp_path / "dlq.sqlite", clock=Clock()) as queue:
        yield queue


# --------------------------------------------------------------------------- the ticket schema


def test_a_valid_ticket_parses_with_typed_fields():
    ticket = SupportTicket.model_validate(GOOD)
    assert ticket.issue_type is IssueType.DELIVERY_ISSUE
    assert ticket.order_date == date(2024, 12, 1)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"order_id": 12345}, "order_id"),  # pydantic 2 does not turn a number into a string
        ({"order_id": "１２３４５"}, "order_id"),  # fullwidth digits: str.isdigit() says True
        ({"order_id": "1234"}, "order_id"),
        ({"issue_type": "not_delivered"}, "issue_type"),
        ({"order_date": "1 December"}, "order_date"),
        ({"customer_email": "ann at example"}, "customer_email"),
        ({"customer_name": ""}, "customer_name"),
    ],
)
def test_invalid_fields_are_rejected(changes, field):
    with pytest.raises(ValidationError) as info:
        SupportTicket.model_validate({**GOOD, **changes})
    assert [e["loc"][0] for e in info.value.errors()] == [field]


def test_order_date_after_the_received_day_is_rejected_only_with_context():
    late = {**GOOD, "order_date": "2024-12-11"}
    assert SupportTicket.model_validate(late).order_date == date(2024, 12, 11)
    with pytest.raises(ValidationError, match="after the email was received"):
        SupportTicket.model_validate(late, context={"received": date(2024, 12, 10)})
    same_day = {**GOOD, "order_date": "2024-12-10"}
    assert SupportTicket.model_validate(same_day, context={"received": date(2024, 12, 10)})


def test_ticket_messages_carry_the_received_day_and_the_email():
    system, user = ticket_messages(EMAIL)
    assert system == {"role": "system", "content": TICKET_SYSTEM_PROMPT}
    assert user["role"] == "user"
    assert "2024-12-10" in user["content"] and "Order 12345" in user["content"]
    assert "From: ann@example.com" in user["content"]
    for issue in IssueType:
        assert f'"{issue.value}"' in TICKET_SYSTEM_PROMPT


def test_sample_emails_have_unique_ids():
    assert len({e.id for e in SAMPLE_EMAILS}) == len(SAMPLE_EMAILS) == 8


# --------------------------------------------------------------------------- extraction and the pipeline


def test_extract_ticket_feeds_the_error_back_and_uses_json_mode():
    provider = ScriptedProvider([reply(order_id=12345), reply()])
    done = extract_ticket(provider, EMAIL)
    assert done.value == SupportTicket.model_validate(GOOD)
    assert len(done.attempts) == 2 and not done.attempts[0].ok
    assert provider.calls[0].params["response_format"] == {"type": "json_object"}
    second = provider.calls[1].messages
    assert second[:2] == ticket_messages(EMAIL)
    assert second[2] == {"role": "assistant", "content": reply(order_id=12345)}
    assert "order_id" in second[3]["content"] and reply(order_id=12345) in second[3]["content"]


def test_extract_ticket_applies_the_received_date_context():
    provider = ScriptedProvider([reply(order_date="2024-12-24"), reply()])
    done = extract_ticket(provider, EMAIL)
    assert "after the email was received" in (done.attempts[0].error or "")


def call_tokens(messages: list[dict], text: str) -> int:
    """Tokens a ScriptedProvider reports for one call: the prompt plus the reply, counted with tiktoken."""
    return count_message_tokens(messages, "gpt-4o") + count_tokens(text)


def scripted_inbox(answers: dict[str, list[str]]):
    """A responder answering by sender and attempt number."""

    def answer(messages, params):
        sender = messages[1]["content"].split("From: ", 1)[1].split("\n", 1)[0]
        attempt = sum(m["role"] == "assistant" for m in messages)
        return answers[sender][attempt]

    return answer


def emails(n: int) -> list[SupportEmail]:
    return [EMAIL.model_copy(update={"id": f"e-{i}", "sender": f"c{i}@example.com"}) for i in range(1, n + 1)]


def test_run_etl_loads_good_emails_and_dead_letters_the_rest(dlq):
    inbox = emails(3)
    answer = scripted_inbox(
        {
            "c1@example.com": [reply(customer_email="c1@example.com")],
            "c2@example.com": [reply(order_id="A1"), reply(order_id="A2"), reply(order_id="A3")],
            "c3@example.com": [reply(issue_type="late"), reply(customer_email="c3@example.com")],
        }
    )
    provider = ScriptedProvider(answer)
    crm = TicketStore()
    outcomes = run_etl(provider, inbox, dlq=dlq, load=crm.load, batch_id="b1")
    assert [(o.email_id, o.status, o.attempts) for o in outcomes] == [
        ("e-1", "loaded", 1),
        ("e-2", "dead_lettered", 3),
        ("e-3", "loaded", 2),
    ]
    assert sorted(crm.tickets) == ["e-1", "e-3"]
    assert crm.tickets["e-3"].customer_email == "c3@example.com"
    letter = dlq.get("b1/e-2")
    assert letter.status == "pending"
    assert [a["raw"] for a in letter.attempts] == [reply(order_id=f"A{i}") for i in (1, 2, 3)]
    assert SupportEmail.model_validate(letter.payload) == inbox[1]
    by_email: dict[str, int] = {}
    for call in provider.calls:
        sender = call.messages[1]["content"].split("From: ", 1)[1].split("\n", 1)[0]
        email_id = "e-" + sender[1]
        text = answer(call.messages, call.params)
        by_email[email_id] = by_email.get(email_id, 0) + call_tokens(call.messages, text)
    assert {o.email_id: o.tokens for o in outcomes} == by_email
    assert outcomes[1].detail.startswith("the JSON does not match SupportTicket")
    assert outcomes[0].detail == "delivery_issue"

    again = run_etl(provider, inbox, dlq=dlq, load=crm.load, batch_id="b1")
    assert again == outcomes
    assert len(provider.calls) == 6, "a re-run must not process committed emails again"


def test_run_etl_counts_the_tokens_of_every_attempt(dlq):
    first, second = reply(order_id="x"), reply()
    provider = ScriptedProvider([first, second])
    [outcome] = run_etl(provider, [EMAIL], dlq=dlq, load=TicketStore().load, batch_id="b")
    calls = provider.calls
    expected = call_tokens(calls[0].messages, first) + call_tokens(calls[1].messages, second)
    assert outcome.tokens == expected


def test_an_outage_is_dead_lettered_then_replayed(dlq):
    healthy = ScriptedProvider([reply()])
    down = FaultyProvider(healthy, ["server_error"], sleep=lambda s: None)
    crm = TicketStore()
    [outcome] = run_etl(down, [EMAIL], dlq=dlq, load=crm.load, batch_id="night")
    assert (outcome.status, outcome.attempts, outcome.tokens) == ("dead_lettered", 0, 0)
    assert "ServerError" in outcome.detail
    assert len(crm) == 0 and healthy.calls == []

    report = dlq.replay(email_processor(healthy, crm.load))
    assert report.replayed == ["night/e-1"] and report.failed == {}
    assert crm.tickets["e-1"] == SupportTicket.model_validate(GOOD)
    assert dlq.get("night/e-1").status == "replayed"


def test_replay_that_fails_again_keeps_the_item_pending(dlq):
    down = FaultyProvider(ScriptedProvider([reply()]), ["server_error", "server_error"], sleep=lambda s: None)
    run_etl(down, [EMAIL], dlq=dlq, load=TicketStore().load, batch_id="b")
    report = dlq.replay(email_processor(down, TicketStore().load))
    assert list(report.failed) == ["b/e-1"]
    assert dlq.get("b/e-1").status == "pending"


def test_a_human_resolution_is_validated_before_it_is_loaded(dlq):
    provider = ScriptedProvider([reply(order_id="bad")] * 3)
    crm = TicketStore()
    run_etl(provider, [EMAIL], dlq=dlq, load=crm.load, batch_id="b")
    with pytest.raises(ResolutionRejectedError, match="order_id") as info:
        resolve_and_load(dlq, "b/e-1", {**GOOD, "order_id": "12345A"}, crm.load, by="ops@example.com")
    assert "12345A" in str(info.value)
    assert dlq.get("b/e-1").status == "pending" and len(crm) == 0

    ticket = resolve_and_load(dlq, "b/e-1", GOOD, crm.load, by="ops@example.com")
    assert crm.tickets == {"e-1": ticket}
    letter = dlq.get("b/e-1")
    assert (letter.status, letter.resolved_by) == ("resolved", "ops@example.com")
    assert dlq.resolved_examples()[0][1] == ticket.model_dump(mode="json")


def test_ticket_store_is_idempotent():
    crm = TicketStore()
    ticket = SupportTicket.model_validate(GOOD)
    crm.load("e-1", ticket)
    crm.load("e-1", ticket)
    assert len(crm) == 1 and crm.loads == 2


def test_the_processor_rejects_a_payload_that_is_not_an_email():
    process = email_processor(ScriptedProvider([reply()]), TicketStore().load)
    with pytest.raises(ValidationError):
        process({"id": "e-1"})


def test_validation_failure_carries_every_attempt():
    provider = ScriptedProvider([reply(order_id="1")] * 2)
    with pytest.raises(ValidationFailedError) as info:
        extract_ticket(provider, EMAIL, max_attempts=2)
    assert len(info.value.attempts) == 2 and len(provider.calls) == 2


# --------------------------------------------------------------------------- the layer experiment


def test_contact_checks_values_against_the_source_only_with_context():
    text = CONTACT_TEXTS[0]
    good = '{"name": "John Smith", "age": 35, "city": "Seattle", "email": "john@example.com"}'
    copied = '{"name": "Jane Doe", "age": 30, "city": "Portland", "email": "jane@example.com"}'
    assert parse_output(good, Contact, context={"source": text}).age == 35
    assert parse_output(copied, Contact).name == "Jane Doe"
    with pytest.raises(ValueError, match="not in the text") as info:
        parse_output(copied, Contact, context={"source": text})
    for value in ("'Jane Doe'", "'Portland'", "'jane@example.com'", "age=30"):
        assert value in str(info.value)


def test_contact_age_must_be_a_whole_number_in_the_text():
    text = "Ann, 135 years? No: Ann Lee, 35, Oslo, ann@example.no"
    ok = '{"name": "Ann Lee", "age": 35, "city": "Oslo", "email": "ann@example.no"}'
    assert parse_output(ok, Contact, context={"source": text}).age == 35
    with pytest.raises(ValueError, match="age=3"):
        parse_output(ok.replace("35", "3"), Contact, context={"source": text})


def test_contact_rejects_blank_and_out_of_range_values():
    for bad in ({"name": " "}, {"age": 130}, {"email": "nobody"}):
        data = {"name": "A", "age": 3, "city": "B", "email": "a@b.io", **bad}
        with pytest.raises(ValidationError):
            Contact.model_validate(data)


def test_contact_messages_styles():
    naive = contact_messages("T", "naive")
    assert naive == [{"role": "user", "content": naive[0]["content"]}] and "T" in naive[0]["content"]
    with_example = contact_messages("T", "rules_with_example")
    assert "Jane Doe" in with_example[0]["content"]
    rules = contact_messages("T", "rules")
    assert "Jane Doe" not in rules[0]["content"] and rules[1] == {"role": "user", "content": "Text: T"}
    with pytest.raises(ValueError, match="unknown prompt style"):
        contact_messages("T", "polite")  # type: ignore[arg-type]


def test_run_contact_experiment_makes_its_calls_in_a_fixed_order():
    texts = CONTACT_TEXTS[:2]
    good = '{"name": "John Smith", "age": 35, "city": "Seattle", "email": "john@example.com"}'
    replies = ["a", "b", "c", "d", "e", "f"]  # three prompt styles x two texts
    replies += [good, "no json", "still none", "nope"]  # JSON mode: text 1 valid, text 2 fails 3 times
    replies += ["x", "y", good, "z", "z", "z"]  # prompt only: text 1 valid at attempt 3, text 2 fails
    provider = ScriptedProvider(replies)
    result = run_contact_experiment(provider, texts, max_attempts=3)
    assert result.outputs == {"naive": ["a", "b"], "rules_with_example": ["c", "d"], "rules": ["e", "f"]}
    assert [[a.raw for a in run] for run in result.loops] == [[good], ["no json", "still none", "nope"]]
    assert [[a.raw for a in run] for run in result.prompt_only_loops] == [["x", "y", good], ["z", "z", "z"]]
    assert [first_success(run) for run in result.prompt_only_loops] == [3, None]
    assert "response_format" not in provider.calls[4].params
    assert provider.calls[6].params["response_format"] == {"type": "json_object"}
    assert provider.calls[6].messages == contact_messages(texts[0], "rules")
    assert provider.calls[10].messages == provider.calls[4].messages == contact_messages(texts[0], "rules")
    assert provider.calls[10].params == provider.calls[4].params, (
        "the prompt-only loop starts with the rules request"
    )
    assert len(provider.calls) == len(replies)


# --------------------------------------------------------------------------- measurements


def attempt(ok: bool, tokens: int = 10, raw: str = "r") -> ValidationAttempt:
    return ValidationAttempt(raw=raw, error=None if ok else "bad", usage=Usage(prompt_tokens=tokens))


def test_tally_outputs_counts_each_check():
    source = CONTACT_TEXTS[0]
    good = '{"name": "John Smith", "age": 35, "city": "Seattle", "email": "john@example.com"}'
    raws = [
        good,
        f"Here it is:\n```json\n{good}\n```",
        '{"name": "Jane Doe", "age": 30, "city": "Portland", "email": "jane@example.com"}',
        '{"name": "John Smith"}',
        "no JSON here",
    ]
    tally = tally_outputs("t", raws, Contact, [source] * 5)
    assert (tally.total, tally.json_loads, tally.extracted, tally.schema_valid, tally.grounded) == (
        5,
        3,
        4,
        3,
        2,
    )
    assert "json.loads  3/5" in str(tally)
    assert tally.wrapped == 1
    with pytest.raises(ValueError, match="one source per reply"):
        tally_outputs("t", raws, Contact, [source])


def test_success_and_budget_by_hand():
    runs = [
        [attempt(True, 10)],
        [attempt(False, 10), attempt(True, 20)],
        [attempt(False, 10), attempt(False, 20), attempt(False, 30)],
        [attempt(False, 10), attempt(False, 20), attempt(True, 30)],
    ]
    assert [first_success(r) for r in runs] == [1, 2, None, 3]
    assert success_by_attempt(runs, 3) == [0.25, 0.25, 0.25]
    assert cumulative_success(runs, 3) == [0.25, 0.5, 0.75]
    one = attempt_budget(runs, 1)
    assert (one.succeeded, one.calls, one.tokens) == (1, 4, 40)
    two = attempt_budget(runs, 2)
    assert (two.succeeded, two.calls, two.tokens) == (2, 7, 100)
    three = attempt_budget(runs, 3)
    assert (three.succeeded, three.calls, three.tokens) == (3, 9, 160)
    assert three.success_rate == 0.75 and three.tokens_per_case == 40 and three.tokens_per_success == 160 / 3
    assert "3/4 valid (75%)" in str(three)
    assert attempt_budget([], 2).success_rate == 0 and attempt_budget([], 2).tokens_per_success is None
    with pytest.raises(ValueError):
        attempt_budget(runs, 0)
    assert success_by_attempt([], 2) == [0.0, 0.0]


def test_repeated_retries_counts_verbatim_repeats():
    runs = [[attempt(False, raw="x"), attempt(False, raw=" x\n"), attempt(True, raw="y")], [attempt(True)]]
    assert repeated_retries(runs) == (1, 2)


runs_strategy = st.lists(
    st.lists(st.tuples(st.booleans(), st.integers(0, 500)), min_size=1, max_size=5).map(
        lambda items: [attempt(ok, t) for ok, t in items]
    ),
    max_size=12,
)


@given(runs_strategy, st.integers(1, 6))
def test_budget_agrees_with_cumulative_success_and_grows_with_the_cap(runs, cap):
    budget = attempt_budget(runs, cap)
    if runs:
        assert budget.success_rate == pytest.approx(cumulative_success(runs, cap)[-1])
    bigger = attempt_budget(runs, cap + 1)
    assert bigger.succeeded >= budget.succeeded
    assert bigger.tokens >= budget.tokens and bigger.calls >= budget.calls
    assert budget.calls <= cap * len(runs)


# --------------------------------------------------------------------------- plots and widget


def test_plots_draw_one_bar_per_value():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from course_lib.lessons.l07_structured_output.plots import plot_layer_tallies, plot_success_by_attempt

    tallies = [tally_outputs(s, ["{}"], Contact, ["x"]) for s in ("a", "b")]
    fig = plot_layer_tallies(tallies)
    assert len(fig.axes[0].patches) == 2 * 4
    plt.close(fig)
    runs = [[attempt(True)], [attempt(False), attempt(True)]]
    fig = plot_success_by_attempt({"a": runs, "b": runs[:1]}, 3, claim=[0.85, 0.14, 0.009])
    assert len(fig.axes[0].patches) == 9
    heights = [p.get_height() for p in fig.axes[0].patches]
    assert heights[:6] == [50.0, 50.0, 0.0, 100.0, 0.0, 0.0]
    assert heights[6:] == pytest.approx([85.0, 14.0, 0.9])
    assert len(fig.axes[0].lines) == 3
    plt.close(fig)


def test_the_widget_drives_attempt_budget(capsys):
    from course_lib.lessons.l07_structured_output.widgets import attempts_widget

    runs = [[attempt(False), attempt(True)]]
    widget = attempts_widget(runs, 4)
    widget.children[0].value = 1
    widget.update()
    assert "0/1 valid" in capsys.readouterr().out
