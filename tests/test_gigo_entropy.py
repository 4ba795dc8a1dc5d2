"""Lesson 01's entropy measurement and the model-written-prompt comparison, on fakes and on the recordings."""

from __future__ import annotations

import math

import pytest

from course_lib.lessons.l01_gigo.entropy import (
    ENTROPY_PAIRS,
    EntropyRow,
    covered_mass,
    entropy_report,
    entropy_summary,
    measure_entropy,
    request_entropy,
    score_instruction,
    topk_entropy_bits,
)
from course_lib.lessons.l01_gigo.prompt_search import DEV, HELD_OUT, exact_name, pick_and_judge
from course_lib.providers.base import ChatResult, Choice, TokenLogprob
from course_lib.providers.registry import get_provider
from course_lib.providers.scripted import ScriptedProvider


def test_entropy_of_uniform_and_certain_distributions():
    assert topk_entropy_bits({t: math.log(0.25) for t in "abcd"}) == pytest.approx(2.0)
    assert topk_entropy_bits({"x": 0.0}) == 0.0
    # the top k are renormalised: two tokens holding 0.3 each are one bit, whatever the tail
    assert topk_entropy_bits({"a": math.log(0.3), "b": math.log(0.3)}) == pytest.approx(1.0)
    assert covered_mass({"a": math.log(0.3), "b": math.log(0.3)}) == pytest.approx(0.6)
    with pytest.raises(ValueError):
        topk_entropy_bits({})


def _result(tops):
    lps = [TokenLogprob(token="t", logprob=-0.1, top=top) for top in tops]
    return ChatResult(choices=[Choice(text="t" * len(tops), logprobs=lps)], source="recorded")


def test_request_entropy_averages_the_first_tokens_only():
    sure, even = {"a": 0.0}, {"a": math.log(0.5), "b": math.log(0.5)}
    bits, coverage = request_entropy(_result([sure, even, even]), tokens=2)
    assert bits == pytest.approx((0.0, 1.0)) and coverage == pytest.approx((1.0, 1.0))
    with pytest.raises(ValueError, match="logprobs"):
        request_entropy(ChatResult(choices=[Choice(text="x")]))


def test_summary_counts_pairs_where_the_specific_form_is_lower():
    rows = [
        EntropyRow("a", "vague", "", (2.0,), (1.0,)),
        EntropyRow("a", "specific", "", (1.0,), (1.0,)),
        EntropyRow("b", "vague", "", (1.0,), (1.0,)),
        EntropyRow("b", "specific", "", (1.5,), (1.0,)),
    ]
    s = entropy_summary(rows)
    assert s["specific_lower"] == 1 and s["pairs"] == 2
    assert s["drop_bits"] == {"a": 1.0, "b": -0.5}
    assert s["mean_bits"] == {"vague": 1.5, "specific": 1.25}


def test_the_recorded_measurement_replays_with_logprobs():
    rows = measure_entropy(get_provider("replay", model="SmolLM2-135M-Instruct", recordings="01_gigo"))
    assert len(rows) == 2 * len(ENTROPY_PAIRS)
    assert {r.source for r in rows} == {"recorded"}
    assert all(0 <= b <= math.log2(20) + 1e-9 for r in rows for b in r.bits)


def test_exact_name_needs_the_exact_shape_and_the_right_name():
    assert exact_name('{"name": "Ada Lovelace"}', "Ada Lovelace")
    assert not exact_name('{"name": "Ada"}', "Ada Lovelace")
    assert not exact_name("Ada Lovelace", "Ada Lovelace")
    assert not exact_name('```json\n{"name": "Ada Lovelace"}\n```', "Ada Lovelace")


def test_pick_and_judge_selects_on_dev_and_judges_on_held_out():
    good, bad = "Reply with the JSON name.", "Write a poem."

    names = dict(HELD_OUT) | dict(DEV)

    def answer(messages, params):
        content = messages[-1]["content"]
        if content.startswith(good):
            return f'{{"name": "{names[content.split(chr(10) * 2, 1)[1]]}"}}'
        return "roses are red"

    provider = ScriptedProvider(answer)
    verdict = pick_and_judge(provider, [bad, good, "  "], human=bad)
    assert verdict.best_dev is not None and verdict.best_dev.instruction == good
    assert verdict.best_held_out is not None and verdict.best_held_out.rate == 1.0
    assert verdict.human_held_out.rate == 0.0
    assert len(verdict.candidates_dev) == 2  # the blank candidate is skipped
    with pytest.raises(ValueError):
        score_instruction(provider, " ", HELD_OUT, exact_name)


def test_entropy_report_lists_each_token_with_its_bits_and_top_three():
    rows = measure_entropy(get_provider("replay", model="SmolLM2-135M-Instruct", recordings="01_gigo"))
    text = entropy_report(rows, "capital", "specific")
    lines = text.splitlines()
    assert lines[0].startswith("capital (specific) [recorded]: mean ")
    assert len(lines) == 1 + len(next(r for r in rows if r.intent == "capital" and r.form == "specific").bits)
    assert "' Paris'" in text and "top 3:" in lines[1]
    with pytest.raises(ValueError):
        entropy_report(rows, "capital", "neither")


def test_the_entropy_widget_prints_the_same_report(capsys):
    from course_lib.lessons.l01_gigo.widgets import entropy_explorer

    rows = [
        EntropyRow("a", "vague", "x", (1.0,), (1.0,), "recorded", ("x",), ((("x", 0.5), ("y", 0.5)),)),
        EntropyRow("a", "specific", "y", (0.0,), (1.0,), "recorded", ("y",), ((("y", 1.0),),)),
    ]
    box = entropy_explorer(rows)  # outside a kernel the Output widget passes its text to stdout
    assert entropy_report(rows, "a", "vague") in capsys.readouterr().out
    box.children[0].children[1].value = "specific"
    assert entropy_report(rows, "a", "specific") in capsys.readouterr().out
