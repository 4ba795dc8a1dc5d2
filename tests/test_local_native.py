"""Tool calls, parse() and schema-constrained output against the real SmolLM2-135M server, and any GGUF file.

Marked ``local``: the session's ``local_server`` fixture skips them with a reason when the local extra
is missing. The local provider rewrites OpenAI's ``json_schema`` response format into llama-cpp-python's
own form below the SDK, so the same code runs here and on replay.
"""

from __future__ import annotations

import json
import shutil

import openai
import pytest
from pydantic import BaseModel

from course_lib.constrained import json_schema_format
from course_lib.providers import local as local_module
from course_lib.providers.local import LocalServer, model_path
from course_lib.providers.local_transport import local_http_client
from course_lib.providers.registry import get_provider
from course_lib.tool_calls import CALCULATOR_TOOL, named_tool_choice

MODEL = "SmolLM2-135M-Instruct"
ASK = [{"role": "user", "content": "What is 15% of 240? Use the calculator."}]


class Person(BaseModel):
    name: str
    age: int


@pytest.fixture
def provider(local_server):
    return get_provider("local", env={"COURSE_LOCAL_URL": local_server.url})


@pytest.mark.local
def test_tool_call_round_trip_on_the_local_server(provider) -> None:
    params = {"tools": [CALCULATOR_TOOL], "temperature": 0, "max_tokens": 160}  # room for the 80-character expression
    first = provider.complete(ASK, tool_choice=named_tool_choice("calculator"), **params)
    assert first.finish_reason == "tool_calls"
    (call,) = first.choices[0].tool_calls
    assert call["function"]["name"] == "calculator"
    arguments = json.loads(call["function"]["arguments"])  # the grammar keeps the arguments to the schema
    assert set(arguments) == {"expression"}
    messages = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": [call]},  # no content: the dialect adds it
        {"role": "tool", "tool_call_id": call["id"], "content": "36.0"},
    ]
    final = provider.complete(messages, tool_choice="auto", **params)
    assert final.text.strip() and final.choices[0].tool_calls is None


@pytest.mark.local
def test_parse_into_a_pydantic_model_on_the_local_server(local_server) -> None:
    client = openai.OpenAI(
        api_key="local", base_url=local_server.url, max_retries=0, http_client=local_http_client()
    )
    completion = client.chat.completions.parse(
        model=MODEL,
        messages=[{"role": "user", "content": "John Smith is 35 years old. Give his name and age."}],
        response_format=Person,
        temperature=0,
        max_tokens=40,
    )
    person = completion.choices[0].message.parsed
    assert isinstance(person, Person)


@pytest.mark.local
def test_schema_constrained_request_on_the_local_server(provider) -> None:
    result = provider.complete(
        [{"role": "user", "content": "Maria is 42."}],
        response_format=json_schema_format(Person),
        temperature=0,
        max_tokens=40,
    )
    assert Person.model_validate_json(result.text)  # valid by construction; not necessarily correct


@pytest.mark.local
def test_without_the_dialect_the_server_refuses_json_schema(local_server) -> None:
    client = openai.OpenAI(api_key="local", base_url=local_server.url, max_retries=0)
    with pytest.raises(openai.APIStatusError):
        client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Maria is 42."}],
            response_format=json_schema_format(Person),
            max_tokens=10,
        )


@pytest.mark.local
@pytest.mark.slow
def test_serve_local_serves_another_gguf_file_under_its_own_name(tmp_path) -> None:
    copy = tmp_path / "my-model.gguf"
    shutil.copyfile(model_path(), copy)
    with LocalServer(model=copy, alias=copy.stem, n_ctx=512) as server:
        provider = get_provider("local", model="my-model", env={"COURSE_LOCAL_URL": server.url})
        assert provider.complete([{"role": "user", "content": "Hi"}], max_tokens=4).model == "my-model"


def test_serve_local_refuses_a_model_that_is_not_a_gguf_file(tmp_path, capsys) -> None:
    assert local_module.serve(model=tmp_path / "missing.gguf") == 2
    assert "--model needs an existing .gguf file" in capsys.readouterr().err
    (tmp_path / "weights.bin").write_bytes(b"x")
    assert local_module.serve(model=tmp_path / "weights.bin") == 2
