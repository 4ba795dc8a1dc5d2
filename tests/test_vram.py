"""Tests for course_lib.lessons.l09_role_deep_dives.vram: weights by precision, KV cache, overhead, GPU counts."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.lessons.l09_role_deep_dives.vram import (
    GPUS,
    MODELS,
    Gpu,
    ModelShape,
    bits_of,
    estimate_vram,
    gpus_needed,
    kv_bytes_per_token,
    kv_cache_gb,
    vram_table,
    weights_gb,
)


@pytest.mark.parametrize(
    ("params", "precision", "expected"),
    [
        (70, "fp32", 280.0),
        (70, "fp16", 140.0),
        (70, "int8", 70.0),
        (70, "int4", 35.0),
        (7, "bf16", 14.0),
        (13, 4, 6.5),
    ],
)
def test_weights_are_params_times_bytes(params, precision, expected):
    assert weights_gb(params, precision) == pytest.approx(expected)


def test_bits_not_bytes():
    # 16 bits is 2 bytes a weight: a 7B model in fp16 is 14 GB, not 112 GB.
    assert weights_gb(7, 16) == pytest.approx(14.0)
    assert bits_of("int4") == 4 and bits_of("FP16") == 16 and bits_of(4.25) == 4.25


@pytest.mark.parametrize("bad", ["fp12", "", 0, -4, True, None])
def test_unknown_or_invalid_precisions_are_refused(bad):
    with pytest.raises(ValueError):
        bits_of(bad)


def test_negative_sizes_are_refused():
    with pytest.raises(ValueError):
        weights_gb(-1, "fp16")
    with pytest.raises(ValueError):
        kv_cache_gb(32, 8, 128, -1)
    with pytest.raises(ValueError):
        kv_bytes_per_token(-1, 8, 128)


def test_kv_cache_per_token_of_published_shapes():
    # Llama-2-7B: multi-head attention, 32 layers x 32 heads x 128 dims, K and V, 2 bytes each.
    assert kv_bytes_per_token(32, 32, 128) == 2 * 32 * 32 * 128 * 2 == 524_288
    # Llama-3-70B: grouped-query attention keeps only 8 key/value heads.
    assert kv_bytes_per_token(80, 8, 128) == 327_680
    assert kv_bytes_per_token(80, 8, 128, "int8") == 163_840


def test_kv_cache_scales_with_context_and_batch():
    one = kv_cache_gb(32, 8, 128, 4096)
    assert kv_cache_gb(32, 8, 128, 8192) == pytest.approx(2 * one)
    assert kv_cache_gb(32, 8, 128, 4096, batch=4) == pytest.approx(4 * one)
    assert one == pytest.approx(131_072 * 4096 / 1e9)


def test_estimate_adds_weights_kv_and_overhead():
    est = estimate_vram("llama-3-70b", "fp16", context_tokens=8192, overhead_fraction=0.1)
    assert est.weights_gb == pytest.approx(70.554 * 2)
    assert est.kv_cache_gb == pytest.approx(327_680 * 8192 / 1e9)
    assert est.overhead_gb == pytest.approx(0.1 * (est.weights_gb + est.kv_cache_gb))
    assert est.total_gb == pytest.approx(1.1 * (141.108 + 2.684354560))


def test_full_context_is_the_default_and_bare_params_have_no_kv():
    shape = MODELS["llama-2-7b"]
    assert estimate_vram(shape).kv_cache_gb == pytest.approx(kv_cache_gb(32, 32, 128, 4096))
    bare = estimate_vram(7.0, "int8", overhead_fraction=0.0)
    assert (bare.weights_gb, bare.kv_cache_gb, bare.total_gb) == pytest.approx((7.0, 0.0, 7.0))
    with pytest.raises(ValueError, match="unknown model"):
        estimate_vram("gpt-5")
    with pytest.raises(ValueError):
        estimate_vram(7.0, overhead_fraction=-0.1)


def test_gpu_memory_is_binary():
    assert GPUS["A100-80GB"].memory_gb == pytest.approx(80 * 2**30 / 1e9)
    assert Gpu("x", 1).memory_gb == pytest.approx(1.073741824)


def test_gpus_needed_counts_usable_memory_and_rounds_to_tensor_parallel_sizes():
    a100 = GPUS["A100-80GB"].memory_gb  # 85.9 GB
    assert gpus_needed(70, "A100-80GB") == 1
    assert gpus_needed(80, "A100-80GB") == 2  # 80 GB > 90 % of 85.9 GB
    assert gpus_needed(80, "A100-80GB", usable_fraction=1.0) == 1
    assert gpus_needed(2.5 * a100 * 0.9, "A100-80GB") == 4  # three would do, tensor parallelism needs four
    assert gpus_needed(2.5 * a100 * 0.9, "A100-80GB", power_of_two=False) == 3
    assert gpus_needed(0, "A10G") == 1
    assert gpus_needed(35, "A10G") == 2  # 35 GB of int4 weights do not fit one 24 GB card
    with pytest.raises(ValueError):
        gpus_needed(10, "A10G", usable_fraction=0)
    with pytest.raises(KeyError):
        gpus_needed(10, "Z100")


@given(
    params=st.floats(min_value=0.1, max_value=500),
    bits=st.sampled_from([32, 16, 8, 4]),
    context=st.integers(min_value=0, max_value=131_072),
    batch=st.integers(min_value=1, max_value=64),
)
def test_fewer_bits_never_need_more_memory(params, bits, context, batch):
    shape = ModelShape("m", params, 40, 8, 128, 8192)
    more = estimate_vram(shape, bits, context_tokens=context, batch=batch)
    less = estimate_vram(shape, bits / 2, context_tokens=context, batch=batch)
    assert less.weights_gb == pytest.approx(more.weights_gb / 2)
    assert less.total_gb <= more.total_gb
    assert more.total_gb == pytest.approx(
        1.1 * (params * bits / 8 + 2 * 40 * 8 * 128 * 2 * context * batch / 1e9)
    )


@given(total=st.floats(min_value=0, max_value=5000), usable=st.floats(min_value=0.5, max_value=1.0))
def test_the_gpus_needed_hold_the_total(total, usable):
    n = gpus_needed(total, "H100-80GB", usable_fraction=usable)
    capacity = GPUS["H100-80GB"].memory_gb * usable
    assert n * capacity >= total - 1e-6
    assert n & (n - 1) == 0  # a power of two
    exact = gpus_needed(total, "H100-80GB", usable_fraction=usable, power_of_two=False)
    assert exact == 1 or (exact - 1) * capacity < total + 1e-6


def test_table_rows_give_the_weights_of_a_70b_model():
    rows = vram_table([ModelShape("70B", 70, 80, 8, 128, 8192)], context_tokens=0, overhead_fraction=0.0)
    assert [r["precision"] for r in rows] == ["fp32", "fp16", "int8", "int4"]
    assert [r["weights_gb"] for r in rows] == pytest.approx([280, 140, 70, 35])
    assert [r["bytes_per_param"] for r in rows] == [4, 2, 1, 0.5]
    assert [r["gpus_weights_only"] for r in rows] == [4, 2, 1, 1]
    assert all(math.isclose(r["total_gb"], r["weights_gb"]) for r in rows)
