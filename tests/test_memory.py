"""Tests for course_lib.memory and course_lib.vector_store: tiers, stores, the budgeted context."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.conversation import BudgetTooSmallError
from course_lib.memory import (
    HierarchicalMemory,
    ShortTermMemory,
    WorkingMemory,
    as_summariser,
    build_context,
    context_tokens_per_iteration,
    truncating_summariser,
)
from course_lib.providers.scripted import ScriptedProvider
from course_lib.tokens import count_message_tokens
from course_lib.vector_store import Hit, InMemoryVectorStore, cosine_similarity, hashing_embedding, hit_text


def upper(text: str) -> str:
    return "S:" + text.upper()


# --------------------------------------------------------------------------- tiers


def test_working_memory_is_bounded_and_evicts_oldest():
    wm = WorkingMemory(limit=2)
    assert wm.add("a") is None
    assert wm.add("b") is None
    assert wm.add("c") == "a"
    assert wm.steps == ["b", "c"]
    assert len(wm) == 2
    with pytest.raises(ValueError):
        WorkingMemory(limit=0)


def test_working_memory_accepts_structured_steps():
    wm = WorkingMemory(limit=3)
    wm.add({"step_type": "calculate", "result": 150})
    assert wm.steps == ['{"result": 150, "step_type": "calculate"}']
    with pytest.raises(TypeError):
        wm.add(42)


def test_short_term_memory_summarises_and_is_bounded():
    stm = ShortTermMemory(upper, limit=2)
    assert stm.add("one") is None
    assert stm.add("two") is None
    assert stm.add("three") == "S:ONE"
    assert stm.summaries == ["S:TWO", "S:THREE"]
    unbounded = ShortTermMemory(upper, limit=None)
    for i in range(20):
        assert unbounded.add(str(i)) is None
    assert len(unbounded) == 20


def test_provider_summariser_sends_instruction_and_step():
    provider = ScriptedProvider(["  Distance of segment one: 150 miles.  "])
    summarise = as_summariser(provider, temperature=0)
    assert summarise("Step 2: 60 mph x 2.5 h = 150 miles") == "Distance of segment one: 150 miles."
    call = provider.calls[0]
    assert call.messages[0]["role"] == "system" and "Summarise" in call.messages[0]["content"]
    assert call.messages[1] == {"role": "user", "content": "Step 2: 60 mph x 2.5 h = 150 miles"}
    assert call.params == {"temperature": 0}
    with pytest.raises(TypeError):
        as_summariser("not a summariser")


def test_truncating_summariser():
    summarise = truncating_summariser(3)
    assert summarise("one two three four five") == "one two three …"
    assert summarise("one two") == "one two"
    with pytest.raises(ValueError):
        truncating_summariser(0)


def test_hierarchical_memory_moves_steps_down_the_tiers():
    store = InMemoryVectorStore(hashing_embedding())
    memory = HierarchicalMemory(upper, store, working_limit=2, short_term_limit=2)
    for s in ["s1", "s2", "s3", "s4", "s5", "s6"]:
        memory.add(s)
    assert memory.working.steps == ["s5", "s6"]
    assert memory.short_term.summaries == ["S:S3", "S:S4"]
    assert len(store) == 2
    assert {h.text for h in store.query("anything", k=5)} == {"S:S1", "S:S2"}
    assert memory.recall("S1", k=1)[0].text == "S:S1"


def test_hierarchical_memory_uses_the_provider_summariser():
    provider = ScriptedProvider(lambda messages, params: "summary of " + messages[-1]["content"])
    memory = HierarchicalMemory(provider, working_limit=1, short_term_limit=5)
    memory.add("first step")
    memory.add("second step")
    assert memory.short_term.summaries == ["summary of first step"]
    assert len(provider.calls) == 1
    assert memory.recall("x") == []  # no store: nothing recalled


def test_memory_accepts_any_store_with_add_and_query():
    class ListStore:
        def __init__(self):
            self.items = []

        def add(self, texts, metadatas=None):
            self.items.extend(zip(texts, metadatas or [{}] * len(texts), strict=True))

        def query(self, text, k):
            return [{"document": t, "metadata": m} for t, m in self.items[-k:]]

    store = ListStore()
    memory = HierarchicalMemory(upper, store, working_limit=1, short_term_limit=1)
    for s in ["a", "b", "c"]:
        memory.add(s)
    assert store.items == [("S:A", {"tier": "long_term", "added_at_step": 3})]
    ctx = memory.context("sys", "task")
    assert "- S:A" in ctx.messages[1]["content"]
    assert ctx.kept == {"long_term": 1, "short_term": 1, "working": 1}


# --------------------------------------------------------------------------- vector store


def test_cosine_similarity():
    assert cosine_similarity([1, 0], [1, 0]) == pytest.approx(1.0)
    assert cosine_similarity([1, 0], [0, 1]) == pytest.approx(0.0)
    assert cosine_similarity([1, 1], [-1, -1]) == pytest.approx(-1.0)
    assert cosine_similarity([3, 4], [4, 3]) == pytest.approx(24 / 25)
    assert cosine_similarity([0, 0], [1, 2]) == 0.0
    with pytest.raises(ValueError):
        cosine_similarity([1], [1, 2])


def test_in_memory_store_ranks_by_cosine():
    vectors = {"cat": [1.0, 0.0], "kitten": [0.9, 0.1], "car": [0.0, 1.0], "query": [1.0, 0.05]}
    store = InMemoryVectorStore(lambda texts: [vectors[t] for t in texts])
    store.add(["car", "cat", "kitten"], [{"i": 0}, {"i": 1}, {"i": 2}])
    hits = store.query("query", k=2)
    assert [h.text for h in hits] == ["cat", "kitten"]
    assert hits[0].metadata == {"i": 1}
    assert hits[0].score == pytest.approx(cosine_similarity([1.0, 0.05], [1.0, 0.0]))
    assert store.query("query", k=0) == []
    assert len(store.query("query", k=10)) == 3
    with pytest.raises(ValueError, match="one per text"):
        store.add(["a"], [{}, {}])


def test_in_memory_store_checks_the_embedding_function():
    store = InMemoryVectorStore(lambda texts: [[1.0]])
    with pytest.raises(ValueError, match="returned 1 vectors for 2 texts"):
        store.add(["a", "b"])
    assert InMemoryVectorStore(hashing_embedding()).query("empty store") == []


def test_hashing_embedding_is_deterministic_and_word_based():
    embed = hashing_embedding(64)
    a, b, c = embed(["Total distance is 270 miles", "total DISTANCE is 270 miles", "unrelated words here"])
    assert a == b
    assert len(a) == 64 and sum(a) == 5
    assert cosine_similarity(a, b) == pytest.approx(1.0)
    assert cosine_similarity(a, c) < 1.0


def test_hit_text_reads_common_result_shapes():
    assert hit_text("plain") == "plain"
    assert hit_text(Hit("hit", 0.5)) == "hit"
    assert hit_text({"document": "doc"}) == "doc"
    with pytest.raises(TypeError):
        hit_text(3)


# --------------------------------------------------------------------------- context builder


def test_build_context_layout_without_budget():
    ctx = build_context(
        "You solve maths problems.",
        "Find the average speed.",
        working=["step 5", "step 6"],
        summaries=["sum 3", "sum 4"],
        long_term=[Hit("note A", 0.9), "note B"],
    )
    assert ctx.messages == [
        {"role": "system", "content": "You solve maths problems."},
        {
            "role": "user",
            "content": "Find the average speed.\n\n"
            "Relevant notes from earlier work:\n- note A\n- note B\n\n"
            "Summary of earlier steps:\n- sum 3\n- sum 4",
        },
        {"role": "assistant", "content": "step 5"},
        {"role": "assistant", "content": "step 6"},
    ]
    assert ctx.tokens == count_message_tokens(ctx.messages)
    assert ctx.dropped == {"long_term": 0, "short_term": 0, "working": 0}


def test_build_context_drops_lowest_priority_first():
    def chars(messages):
        return sum(len(m["content"]) for m in messages)

    parts = {"working": ["w1", "w2"], "summaries": ["s1", "s2"], "long_term": ["n1", "n2"]}
    full = build_context("S", "T", **parts, counter=chars)
    # dropping the least relevant note (n2) first
    ctx = build_context("S", "T", **parts, budget=full.tokens - 1, counter=chars)
    assert ctx.kept == {"long_term": 1, "short_term": 2, "working": 2}
    assert "n1" in ctx.messages[1]["content"] and "n2" not in ctx.messages[1]["content"]
    # then every note, then the oldest summary
    no_notes = build_context("S", "T", working=["w1", "w2"], summaries=["s1", "s2"], counter=chars).tokens
    ctx = build_context("S", "T", **parts, budget=no_notes - 1, counter=chars)
    assert ctx.kept == {"long_term": 0, "short_term": 1, "working": 2}
    assert "s2" in ctx.messages[1]["content"] and "s1" not in ctx.messages[1]["content"]
    # with only room for system and task plus one step, the newest step survives
    bare = build_context("S", "T", counter=chars).tokens
    ctx = build_context("S", "T", **parts, budget=bare + 2, counter=chars)
    assert ctx.messages[2:] == [{"role": "assistant", "content": "w2"}]
    assert ctx.dropped == {"long_term": 2, "short_term": 2, "working": 1}


def test_build_context_raises_when_system_and_task_do_not_fit():
    with pytest.raises(BudgetTooSmallError, match="system prompt and the task"):
        build_context("a long system prompt " * 20, "task", working=["w"], budget=30)


TEXTS = st.lists(st.text(alphabet="abc xyz 0123.", min_size=1, max_size=40), max_size=6)


@settings(max_examples=100, deadline=None)
@given(TEXTS, TEXTS, TEXTS, st.integers(min_value=0, max_value=300))
def test_build_context_never_exceeds_the_budget(working, summaries, notes, budget):
    system, task = "You are an agent.", "Solve the task."
    floor = count_message_tokens([{"role": "system", "content": system}, {"role": "user", "content": task}])
    if floor > budget:
        with pytest.raises(BudgetTooSmallError):
            build_context(system, task, working=working, summaries=summaries, long_term=notes, budget=budget)
        return
    ctx = build_context(system, task, working=working, summaries=summaries, long_term=notes, budget=budget)
    assert ctx.tokens == count_message_tokens(ctx.messages) <= budget
    assert ctx.messages[0] == {"role": "system", "content": system}
    assert ctx.messages[1]["content"].startswith(task)
    kept_steps = [m["content"] for m in ctx.messages[2:]]
    assert kept_steps == working[len(working) - len(kept_steps) :]  # newest steps kept, in order
    # lower tiers are emptied before a higher one loses anything
    if ctx.dropped["short_term"] or ctx.dropped["working"]:
        assert ctx.kept["long_term"] == 0
    if ctx.dropped["working"]:
        assert ctx.kept["short_term"] == 0


# --------------------------------------------------------------------------- growth for the plot

STEPS = [
    f"Step {i}: segment {i} covers {i * 37} miles at {40 + i} mph; add it to the running total and check units."
    for i in range(1, 41)
]


def test_naive_context_grows_and_hierarchical_plateaus():
    growth = context_tokens_per_iteration(STEPS, system="You solve maths.", task="Average speed?")
    assert growth.iterations == list(range(1, 41))
    assert len(growth.naive) == len(growth.hierarchical) == 40
    base = count_message_tokens(
        [{"role": "system", "content": "You solve maths."}, {"role": "user", "content": "Average speed?"}]
    )
    assert growth.naive[0] == growth.hierarchical[0] == base
    assert all(b > a for a, b in zip(growth.naive, growth.naive[1:], strict=False))
    # before anything leaves working memory (5 steps) the two agents send the same prompt
    assert growth.hierarchical[:6] == growth.naive[:6]
    assert all(h <= n for h, n in zip(growth.hierarchical, growth.naive, strict=True))
    # once every tier is full the hierarchical prompt all but stops growing (longer numbers in later
    # steps still add a token here and there), while the naive one keeps growing by a whole step
    h, n = growth.hierarchical, growth.naive
    assert (h[-1] - h[-15]) * 10 < n[-1] - n[-15]
    assert growth.naive[-1] > 2.5 * growth.hierarchical[-1]


def test_growth_with_budget_respects_it():
    growth = context_tokens_per_iteration(STEPS, system="S", task="T", budget=250)
    assert max(growth.hierarchical) <= 250
    assert max(growth.naive) > 250


def test_growth_uses_an_injected_summariser():
    calls = []

    def summarise(text):
        calls.append(text)
        return "x"

    context_tokens_per_iteration(STEPS[:8], system="S", task="T", working_limit=2, summariser=summarise)
    # steps 1 … 8 are added; 6 of them pass through working memory into short-term memory
    assert calls == STEPS[:6]
