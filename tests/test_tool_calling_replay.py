"""Tool calls and schema-constrained output through the real openai SDK on replay, and the local dialect.

The round trip (request with tools → tool_calls → tool message → final answer) and ``parse()`` run on
entries built in a temporary recordings file; the schema-constrained request replays the committed
recordings of the real small model.
"""

from __future__ import annotations

import json

import httpx2
import openai
import pytest
from pydantic import BaseModel

from course_lib.constrained import json_schema_format
from course_lib.providers.local_transport import LocalDialectTransport, rewrite_request, to_llama_cpp
from course_lib.providers.registry import get_provider
from course_lib.providers.replay.recordings import RecordingStore
from course_lib.providers.replay.transport import ReplayMissError, ReplayTransport
from course_lib.tool_calls import CALCULATOR_TOOL, named_tool_choice

MODEL = "gpt-4o-mini"
ASK = [{"role": "user", "content": "What is 15% of 240? Use the calculator."}]
CALL = {
    "id": "call_calc_1",
    "type": "function",
    "function": {"name": "calculator", "arguments": json.dumps({"expression": "240 * 0.15"})},
}
NOTE = "Scripted by the test to exercise the tool-call round trip; not a model's output."


class Person(BaseModel):
    name: str
    age: int


def captured_body(call) -> dict:
    """The JSON body the SDK sends for ``call(client)``, caught before any network."""
    seen: list[dict] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(json.loads(request.content))
        return httpx2.Response(500, json={"error": {"message": "captured"}})

    client = openai.OpenAI(
        api_key="x",
        base_url="http://capture.invalid/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )
    with pytest.raises(openai.InternalServerError):
        call(client)
    return seen[0]


@pytest.fixture
def round_trip_store(tmp_path):
    store = RecordingStore(tmp_path / "tools.jsonl")
    tools = [CALCULATOR_TOOL]
    store.add_scripted(
        messages=ASK,
        params={"tools": tools, "tool_choice": "auto", "temperature": 0},
        responses=[{"content": None, "tool_calls": [CALL], "finish_reason": "tool_calls"}],
        model=MODEL,
        note=NOTE,
    )
    follow_up = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": "call_calc_1", "content": "36.0"},
    ]
    store.add_scripted(
        messages=follow_up,
        params={"tools": tools, "tool_choice": "auto", "temperature": 0},
        responses=["15% of 240 is 36."],
        model=MODEL,
        note=NOTE,
    )
    return store.save()


def test_tool_call_round_trip_through_the_sdk_on_replay(round_trip_store) -> None:
    client = ReplayTransport(round_trip_store).openai_client()
    params = {"model": MODEL, "tools": [CALCULATOR_TOOL], "tool_choice": "auto", "temperature": 0}
    first = client.chat.completions.create(messages=ASK, **params)
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls
    assert call.id == "call_calc_1" and call.function.name == "calculator"
    from course_lib.calculator import safe_eval

    value = safe_eval(json.loads(call.function.arguments)["expression"])
    messages = [
        *ASK,
        choice.message.model_dump(include={"role", "content", "tool_calls"}),
        {"role": "tool", "tool_call_id": call.id, "content": str(value)},
    ]
    final = client.chat.completions.create(messages=messages, **params)
    assert final.choices[0].message.content == "15% of 240 is 36."
    assert final.choices[0].finish_reason == "stop"


def test_the_request_key_covers_tools_and_tool_choice(round_trip_store) -> None:
    client = ReplayTransport(round_trip_store).openai_client()
    with pytest.raises(ReplayMissError, match="tool_choice"):
        client.chat.completions.create(
            model=MODEL,
            messages=ASK,
            tools=[CALCULATOR_TOOL],
            tool_choice=named_tool_choice("calculator"),
            temperature=0,
        )


def test_provider_reports_tool_calls_on_replay(round_trip_store) -> None:
    provider = get_provider("replay", model=MODEL, recordings=round_trip_store)
    result = provider.complete(ASK, tools=[CALCULATOR_TOOL], tool_choice="auto", temperature=0)
    assert result.finish_reason == "tool_calls"
    assert result.choices[0].tool_calls[0]["function"]["name"] == "calculator"
    assert result.source == "scripted"


def test_parse_into_a_pydantic_model_on_replay(tmp_path) -> None:
    ask = [{"role": "user", "content": "John Smith is 35."}]
    body = captured_body(
        lambda c: c.chat.completions.parse(model=MODEL, messages=ask, response_format=Person, temperature=0)
    )
    assert body["response_format"]["type"] == "json_schema"
    store = RecordingStore(tmp_path / "parse.jsonl")
    params = {k: v for k, v in body.items() if k not in ("model", "messages")}
    store.add_scripted(
        messages=ask, params=params, responses=['{"name": "John Smith", "age": 35}'], model=MODEL, note=NOTE
    )
    client = ReplayTransport(store.save()).openai_client()
    parsed = client.chat.completions.parse(model=MODEL, messages=ask, response_format=Person, temperature=0)
    person = parsed.choices[0].message.parsed
    assert isinstance(person, Person)
    assert person == Person(name="John Smith", age=35)


def test_schema_constrained_request_replays_the_small_models_recording() -> None:
    from course_lib.lessons.l07_structured_output.constrained import (
        CONSTRAINED,
        LOCAL_MODEL,
        ConstrainedContact,
    )
    from course_lib.lessons.l07_structured_output.layers import (
        CONTACT_PARAMS,
        CONTACT_TEXTS,
        Contact,
        contact_messages,
    )

    assert CONSTRAINED["response_format"] == json_schema_format(ConstrainedContact)
    provider = get_provider("replay", model=LOCAL_MODEL, recordings="07_structured_output")
    result = provider.complete(contact_messages(CONTACT_TEXTS[0], "rules"), **CONTACT_PARAMS, **CONSTRAINED)
    assert result.source == "recorded"
    contact = Contact.model_validate_json(result.text)
    assert contact.email.endswith("@example.com")
    entry = next(
        e
        for e in RecordingStore("07_structured_output").entries.values()
        if e.request.get("response_format", {}).get("type") == "json_schema"
    )
    # Keyed on the request as the lesson sent it: OpenAI's form, not the local server's.
    assert entry.request["response_format"]["json_schema"]["schema"] == ConstrainedContact.model_json_schema()
    assert entry.provenance.source == "recorded" and entry.provenance.model == LOCAL_MODEL


# ------------------------------------------------------------------------------ the local dialect


def test_json_schema_becomes_llama_cpps_own_form() -> None:
    fmt = json_schema_format(Person)
    out = to_llama_cpp({"model": "m", "messages": [], "response_format": fmt})
    assert out["response_format"] == {"type": "json_object", "schema": Person.model_json_schema()}
    assert to_llama_cpp({"response_format": {"type": "json_object"}}) == {
        "response_format": {"type": "json_object"}
    }
    with pytest.raises(ValueError, match=r"json_schema\.schema"):
        to_llama_cpp({"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}})


def test_assistant_tool_calls_get_empty_content_for_the_chat_template() -> None:
    messages = [{"role": "assistant", "tool_calls": [CALL]}, {"role": "assistant", "content": "hi"}]
    out = to_llama_cpp({"messages": messages})
    assert out["messages"][0] == {"role": "assistant", "content": "", "tool_calls": [CALL]}
    assert out["messages"][1] == messages[1]
    assert "content" not in messages[0]  # the caller's request is not changed


def test_the_dialect_transport_rewrites_only_what_leaves_the_machine() -> None:
    seen: list[dict] = []

    def server(request: httpx2.Request) -> httpx2.Response:
        seen.append(json.loads(request.content))
        body = {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": '{"name": "A", "age": 3}'},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        return httpx2.Response(200, json=body)

    transport = LocalDialectTransport(httpx2.MockTransport(server))
    client = openai.OpenAI(
        api_key="x",
        base_url="http://local.invalid/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=transport),
    )
    parsed = client.chat.completions.parse(
        model="m", messages=[{"role": "user", "content": "A is 3"}], response_format=Person
    )
    assert parsed.choices[0].message.parsed == Person(name="A", age=3)
    assert seen[0]["response_format"]["type"] == "json_object"
    assert seen[0]["response_format"]["schema"]["required"] == ["name", "age"]
    other = httpx2.Request("GET", "http://local.invalid/v1/models")
    assert rewrite_request(other) is other


def test_the_local_kind_talks_the_dialect() -> None:
    provider = get_provider("local", env={"COURSE_LOCAL_URL": "http://127.0.0.1:9/v1"})
    assert isinstance(provider.client._client._transport, LocalDialectTransport)
    openai_kind = get_provider("ollama", env={})
    assert not isinstance(openai_kind.client._client._transport, LocalDialectTransport)


def test_the_async_dialect_transport_rewrites_too() -> None:
    import asyncio

    from course_lib.providers.local_transport import AsyncLocalDialectTransport

    seen: list[dict] = []

    async def server(request: httpx2.Request) -> httpx2.Response:
        seen.append(json.loads(request.content))
        return httpx2.Response(500, json={"error": {"message": "seen"}})

    client = openai.AsyncOpenAI(
        api_key="x",
        base_url="http://local.invalid/v1",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=AsyncLocalDialectTransport(httpx2.MockTransport(server))),
    )
    fmt = json_schema_format(Person)
    with pytest.raises(openai.InternalServerError):
        asyncio.run(client.chat.completions.create(model="m", messages=ASK, response_format=fmt))
    assert seen[0]["response_format"] == {"type": "json_object", "schema": Person.model_json_schema()}
