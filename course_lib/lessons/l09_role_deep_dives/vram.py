"""GPU memory (VRAM) to serve a model: weights by precision, KV cache and overhead (lesson 09).

The estimate, in decimal gigabytes (1 GB = 10^9 bytes)::

    weights   = parameters × bits_per_weight / 8
    kv_cache  = 2 × layers × kv_heads × head_dim × context_tokens × batch × kv_bits / 8
    overhead  = overhead_fraction × (weights + kv_cache)
    total     = weights + kv_cache + overhead

The 2 in the KV cache counts the keys *and* the values that every layer keeps for every token in
flight. ``kv_heads`` is the number of key/value heads: models with grouped-query attention (Llama-2-70B,
Llama-3) keep far fewer than they have query heads, so their cache per token is smaller. The overhead
stands for activations, the CUDA context and allocator fragmentation; 10 % is an assumption to adjust.

GPU memory is sold in binary units: an "80 GB" A100 holds 80 GiB = 85.9 GB. A server does not hand all
of it to the model (vLLM takes 90 % by default), and tensor parallelism splits a model over a power-of-two
number of GPUs, because the attention heads must divide evenly. :func:`gpus_needed` applies both.

    >>> round(weights_gb(70, "fp16"), 1)
    140.0
    >>> round(weights_gb(7, "int4"), 2)
    3.5
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "GPUS",
    "MODELS",
    "PRECISION_BITS",
    "Gpu",
    "ModelShape",
    "VramEstimate",
    "bits_of",
    "estimate_vram",
    "gpus_needed",
    "kv_bytes_per_token",
    "kv_cache_gb",
    "vram_table",
    "weights_gb",
]

GB = 1e9
GIB = 2**30

PRECISION_BITS: dict[str, float] = {
    "fp32": 32,
    "fp16": 16,
    "bf16": 16,
    "fp8": 8,
    "int8": 8,
    "int4": 4,
}
"""Bits per weight of each precision name (lesson 09). Bytes per weight are these divided by 8."""


@dataclass(frozen=True)
class ModelShape:
    """What the memory estimate needs to know about a model, from its published config (lesson 09)."""

    name: str
    params_billion: float
    layers: int
    kv_heads: int
    head_dim: int
    max_context: int


MODELS: dict[str, ModelShape] = {
    "llama-2-7b": ModelShape("Llama-2-7B", 6.738, 32, 32, 128, 4096),
    "llama-2-13b": ModelShape("Llama-2-13B", 13.016, 40, 40, 128, 4096),
    "llama-2-70b": ModelShape("Llama-2-70B", 68.977, 80, 8, 128, 4096),
    "llama-3-8b": ModelShape("Llama-3-8B", 8.030, 32, 8, 128, 8192),
    "llama-3-70b": ModelShape("Llama-3-70B", 70.554, 80, 8, 128, 8192),
}
"""Shapes of common open models: parameters, layers, key/value heads, head size, context (lesson 09)."""


@dataclass(frozen=True)
class Gpu:
    """A GPU model and its memory as sold (binary gigabytes, GiB) (lesson 09)."""

    name: str
    memory_gib: float

    @property
    def memory_gb(self) -> float:
        """The memory in decimal GB, the unit of the estimates."""
        return self.memory_gib * GIB / GB


GPUS: dict[str, Gpu] = {
    "A10G": Gpu("A10G", 24),
    "L4": Gpu("L4", 24),
    "A100-40GB": Gpu("A100-40GB", 40),
    "A100-80GB": Gpu("A100-80GB", 80),
    "H100-80GB": Gpu("H100-80GB", 80),
}
"""Common serving GPUs by name (lesson 09)."""


def bits_of(precision: str | float) -> float:
    """Bits per weight for a precision name (``"int4"``) or a number of bits (``4.25``) (lesson 09)."""
    if isinstance(precision, str):
        key = precision.strip().lower()
        if key not in PRECISION_BITS:
            raise ValueError(
                f"unknown precision {precision!r}; use one of {sorted(PRECISION_BITS)} or a bit count"
            )
        return float(PRECISION_BITS[key])
    if isinstance(precision, bool) or not isinstance(precision, (int, float)) or not precision > 0:
        raise ValueError(f"bits per weight must be a positive number, got {precision!r}")
    return float(precision)


def weights_gb(params_billion: float, precision: str | float = "fp16") -> float:
    """GB the weights take: parameters × bits / 8 (lesson 09)."""
    if params_billion < 0:
        raise ValueError(f"params_billion must not be negative, got {params_billion}")
    return params_billion * 1e9 * bits_of(precision) / 8 / GB


def kv_bytes_per_token(
    layers: int, kv_heads: int, head_dim: int, kv_precision: str | float = "fp16"
) -> float:
    """Bytes of KV cache one token takes: 2 (K and V) × layers × kv_heads × head_dim × bytes (lesson 09)."""
    if min(layers, kv_heads, head_dim) < 0:
        raise ValueError("layers, kv_heads and head_dim must not be negative")
    return 2 * layers * kv_heads * head_dim * bits_of(kv_precision) / 8


def kv_cache_gb(
    layers: int,
    kv_heads: int,
    head_dim: int,
    context_tokens: int,
    batch: int = 1,
    kv_precision: str | float = "fp16",
) -> float:
    """GB of KV cache for ``batch`` sequences of ``context_tokens`` tokens each (lesson 09)."""
    if context_tokens < 0 or batch < 0:
        raise ValueError("context_tokens and batch must not be negative")
    return kv_bytes_per_token(layers, kv_heads, head_dim, kv_precision) * context_tokens * batch / GB


@dataclass(frozen=True)
class VramEstimate:
    """Weights, KV cache and overhead in GB, and their total (lesson 09)."""

    weights_gb: float
    kv_cache_gb: float
    overhead_gb: float

    @property
    def total_gb(self) -> float:
        """Everything the GPU(s) must hold."""
        return self.weights_gb + self.kv_cache_gb + self.overhead_gb

    def gpus(
        self, gpu: Gpu | str = "A100-80GB", *, usable_fraction: float = 0.9, power_of_two: bool = True
    ) -> int:
        """How many of ``gpu`` it takes: :func:`gpus_needed` on the total."""
        return gpus_needed(self.total_gb, gpu, usable_fraction=usable_fraction, power_of_two=power_of_two)


def estimate_vram(
    model: ModelShape | str | float,
    precision: str | float = "fp16",
    *,
    context_tokens: int | None = None,
    batch: int = 1,
    kv_precision: str | float = "fp16",
    overhead_fraction: float = 0.10,
) -> VramEstimate:
    """Serving memory of a model: weights, KV cache and overhead (lesson 09).

    ``model`` is a :class:`ModelShape`, a key of :data:`MODELS` or billions of parameters. ``context_tokens`` defaults to the model's full context; a bare parameter count has no KV cache
    (its shape is unknown), so its estimate is weights plus overhead (lesson 09).
    """
    if not 0 <= overhead_fraction < 10:
        raise ValueError(f"overhead_fraction is a share of the memory, e.g. 0.1; got {overhead_fraction}")
    if isinstance(model, str):
        if model.lower() not in MODELS:
            raise ValueError(f"unknown model {model!r}; known: {sorted(MODELS)} (or pass a ModelShape)")
        model = MODELS[model.lower()]
    if isinstance(model, ModelShape):
        weights = weights_gb(model.params_billion, precision)
        tokens = model.max_context if context_tokens is None else context_tokens
        kv = kv_cache_gb(model.layers, model.kv_heads, model.head_dim, tokens, batch, kv_precision)
    else:
        weights, kv = weights_gb(float(model), precision), 0.0
    return VramEstimate(weights, kv, overhead_fraction * (weights + kv))


def gpus_needed(
    total_gb: float, gpu: Gpu | str = "A100-80GB", *, usable_fraction: float = 0.9, power_of_two: bool = True
) -> int:
    """GPUs of one kind that hold ``total_gb``, each giving ``usable_fraction`` of its memory (lesson 09).

    With ``power_of_two`` the count is rounded up to 1, 2, 4, 8 … (tensor-parallel sizes).
    """
    card = GPUS[gpu] if isinstance(gpu, str) else gpu
    if not 0 < usable_fraction <= 1:
        raise ValueError(f"usable_fraction must be in (0, 1], got {usable_fraction}")
    if total_gb < 0:
        raise ValueError(f"total_gb must not be negative, got {total_gb}")
    count = max(1, math.ceil(total_gb / (card.memory_gb * usable_fraction) - 1e-9))
    return 1 << (count - 1).bit_length() if power_of_two else count


def vram_table(
    models: Iterable[ModelShape | str] = ("llama-2-7b", "llama-2-13b", "llama-3-70b"),
    precisions: Iterable[str] = ("fp32", "fp16", "int8", "int4"),
    *,
    gpu: Gpu | str = "A100-80GB",
    context_tokens: int | None = None,
    batch: int = 1,
    overhead_fraction: float = 0.10,
    usable_fraction: float = 0.9,
) -> list[dict[str, object]]:
    """One row per model × precision: weights, KV cache, total and GPUs needed (lesson 09)."""
    rows: list[dict[str, object]] = []
    precisions = list(precisions)
    for model in models:
        shape = MODELS[model.lower()] if isinstance(model, str) else model
        for precision in precisions:
            est = estimate_vram(
                shape,
                precision,
                context_tokens=context_tokens,
                batch=batch,
                overhead_fraction=overhead_fraction,
            )
            rows.append(
                {
                    "model": shape.name,
                    "precision": precision,
                    "bytes_per_param": bits_of(precision) / 8,
                    "weights_gb": est.weights_gb,
                    "kv_cache_gb": est.kv_cache_gb,
                    "overhead_gb": est.overhead_gb,
                    "total_gb": est.total_gb,
                    "gpus_weights_only": gpus_needed(
                        est.weights_gb, gpu, usable_fraction=1.0, power_of_two=False
                    ),
                    "gpus": gpus_needed(est.total_gb, gpu, usable_fraction=usable_fraction),
                }
            )
    return rows
