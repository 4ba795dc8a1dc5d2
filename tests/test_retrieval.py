"""Tests for offline MiniLM embeddings and dynamic few-shot selection (course_lib.embeddings, .retrieval)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from importlib import resources

import numpy as np
import pytest

from course_lib.embeddings import DIMENSION, cosine_similarity, embed, minilm_embedding_function
from course_lib.retrieval import (
    FewShotSelector,
    LabeledExample,
    compare_fewshot_cost,
    fewshot_messages,
    load_examples,
)
from course_lib.tokens import count_message_tokens

NDA = "The recipient shall hold all confidential information in strict confidence and disclose it to no one."
LEASE = (
    "The tenant shall pay the monthly rent on the first day of each month and keep the flat in good repair."
)
SALES = (
    "The seller shall deliver the goods to the buyer's warehouse and the buyer shall pay the purchase price."
)
EMPLOYMENT = "The employee will work forty hours a week and receive an annual salary paid monthly."
SECRET_QUERY = "How do we make sure the other side keeps our information secret?"


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No network: HF_HUB_OFFLINE set, and any connection to a non-loopback address fails the test."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if (
            isinstance(host, str)
            and host not in ("127.0.0.1", "::1", "localhost")
            and self.family != socket.AF_UNIX
        ):
            raise AssertionError(f"test tried to reach the network: {address}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="module")
def selector():
    return FewShotSelector()


def test_embeddings_have_unit_norm_and_384_dimensions():
    vectors = embed(["short", "a somewhat longer sentence about contracts", "", "x " * 600])
    assert vectors.shape == (4, DIMENSION) == (4, 384)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_embedding_does_not_depend_on_batch_padding():
    alone = embed(["keep it secret"])[0]
    batched = embed(["keep it secret", "a much longer sentence that forces padding in the batch " * 5])[0]
    assert np.allclose(alone, batched, atol=1e-4)


def test_secret_query_is_closest_to_the_nda_clause():
    scores = {
        name: cosine_similarity(SECRET_QUERY, text)
        for name, text in [("nda", NDA), ("lease", LEASE), ("sales", SALES), ("employment", EMPLOYMENT)]
    }
    assert max(scores, key=scores.get) == "nda"
    assert scores["nda"] > 0.3
    assert all(scores["nda"] - s > 0.2 for name, s in scores.items() if name != "nda")


def test_embed_rejects_a_bare_string():
    with pytest.raises(TypeError, match="list"):
        embed("not a list")


def test_embedding_function_follows_chromadb_protocol():
    from chromadb.utils.embedding_functions import config_to_embedding_function, known_embedding_functions

    ef = minilm_embedding_function(max_length=128)
    assert not ef.is_legacy()
    assert ef.name() in known_embedding_functions
    assert ef.get_config() == {"max_length": 128, "batch_size": 32}
    rebuilt = config_to_embedding_function({"name": ef.name(), "config": ef.get_config()})
    assert rebuilt.get_config() == ef.get_config()
    vectors = ef(["one", "two"])
    assert len(vectors) == 2 and len(vectors[0]) == DIMENSION
    with pytest.raises(ValueError, match="positive integer"):
        minilm_embedding_function(max_length=0)
    with pytest.raises(ValueError, match="re-embed"):
        ef.validate_config_update({"max_length": 128}, {"max_length": 256})


def test_class_is_importable_by_name():
    from course_lib.embeddings import MiniLMEmbeddingFunction

    assert isinstance(minilm_embedding_function(), MiniLMEmbeddingFunction)


def test_builtin_examples_are_well_formed():
    examples = load_examples()
    assert len(examples) == 50
    assert len({e.id for e in examples}) == 50
    labels = {e.label for e in examples}
    assert len(labels) == 10 and "NDA" in labels
    raw = json.loads((resources.files("course_lib") / "data" / "fewshot_examples.json").read_text("utf-8"))
    assert sorted(raw["labels"]) == sorted(labels)


@pytest.mark.parametrize(
    ("query", "label"),
    [
        ("The recipient must not pass on any proprietary details it learns during the negotiations.", "NDA"),
        ("The tenant may not keep pets in the flat without the owner's written approval.", "Lease"),
        ("The vendor must tell us within a day if customer personal records are leaked.", "Data Processing"),
        ("Royalties of five percent of weekly takings are due to the brand owner.", "Franchise"),
    ],
)
def test_nearest_example_has_the_right_label(selector, query, label):
    top = selector.select(query, k=3)
    assert top[0].example.label == label
    assert [r.similarity for r in top] == sorted((r.similarity for r in top), reverse=True)


def test_select_bounds(selector):
    assert len(selector.select("anything", k=500)) == 50
    with pytest.raises(ValueError, match="k must be"):
        selector.select("anything", k=0)
    with pytest.raises(ValueError, match="empty"):
        selector.select("  ")


def test_dynamic_prompt_is_much_smaller_than_static(selector):
    query = "The recipient must not pass on any proprietary details."
    dynamic = selector.messages(query, k=3)
    assert len(dynamic) == 1 + 2 * 3 + 1
    assert dynamic[-1] == {"role": "user", "content": query}
    assert "NDA" in dynamic[0]["content"] and "Franchise" in dynamic[0]["content"]  # every label listed
    cost = selector.cost_comparison(query, k=3, price_per_million=2.0, requests=1000)
    assert cost.static_tokens == count_message_tokens(selector.static_messages(query))
    assert cost.dynamic_tokens == count_message_tokens(dynamic)
    assert cost.reduction > 0.8
    assert cost.static_cost == pytest.approx(cost.static_tokens * 1000 * 2.0 / 1e6)
    assert cost.dynamic_cost < cost.static_cost


def test_cost_without_price_has_no_money():
    msgs = fewshot_messages([LabeledExample(id="a", text="x", label="L")], "q")
    cost = compare_fewshot_cost(msgs, msgs[:1] + msgs[-1:], k=0)
    assert cost.static_cost is None and cost.dynamic_cost is None
    assert cost.saved_tokens == cost.static_tokens - cost.dynamic_tokens > 0
    with pytest.raises(ValueError, match="price_per_million"):
        compare_fewshot_cost(msgs, msgs, k=1, price_per_million=-1)


def test_fewshot_messages_shape():
    examples = [
        LabeledExample(id="1", text="clause one", label="A"),
        LabeledExample(id="2", text="two", label="B"),
    ]
    msgs = fewshot_messages(examples, "query", labels=["A", "B", "C"])
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert "A, B, C" in msgs[0]["content"]
    with pytest.raises(ValueError, match="empty"):
        fewshot_messages(examples, " ")


def test_selector_rejects_duplicate_ids():
    dup = [LabeledExample(id="x", text="a", label="A"), LabeledExample(id="x", text="b", label="B")]
    with pytest.raises(ValueError, match="unique"):
        FewShotSelector(dup)


def test_persistent_store_reopens_in_a_new_client(tmp_path, capfd):
    from course_lib.retrieval import chroma_client

    examples = load_examples()[:10]
    first = FewShotSelector(examples, persist_dir=tmp_path)
    name = first.collection.name
    reopened = chroma_client(tmp_path).get_collection(name)  # no embedding function given: from config
    assert reopened.count() == 10
    hit = reopened.query(query_texts=["keep the disclosed information secret"], n_results=1)
    assert hit["metadatas"][0][0]["label"] == "NDA"
    assert capfd.readouterr().err == ""


def test_nothing_is_printed_on_stderr(capfd):
    examples = [
        LabeledExample(id=f"e{i}", text=t, label=lbl)
        for i, (t, lbl) in enumerate(
            [(NDA, "NDA"), (LEASE, "Lease"), (SALES, "Sales"), (EMPLOYMENT, "Employment")]
        )
    ]
    sel = FewShotSelector(examples)
    assert sel.select(SECRET_QUERY, k=1)[0].example.label == "NDA"
    captured = capfd.readouterr()
    assert captured.err == ""


@pytest.mark.slow
def test_fresh_process_prints_nothing_on_stderr(tmp_path):
    script = textwrap.dedent(
        """
        from course_lib.retrieval import FewShotSelector
        sel = FewShotSelector()
        print(sel.select("keep our information secret", k=1)[0].example.label)
        """
    )
    env = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "NDA"
    assert proc.stderr == ""
