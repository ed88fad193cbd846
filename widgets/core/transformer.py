"""Params and MACs of a transformer, by formula, term by term.

Counting convention: 1 MAC = 1 multiply + 1 add; FLOPs = 2 x MACs. Bias adds, softmax, layer norm
and activations cost no MACs (torch's FlopCounterMode counts none of them either); their
parameters are counted. The blocks are torch's `nn.TransformerEncoderLayer` (self-attention +
FFN, 2 layer norms) and `nn.TransformerDecoderLayer` (masked self-attention + cross-attention
over the encoder's output + FFN, 3 layer norms); a causal mask does not reduce the work torch
does. Optional token embedding (a lookup: params, no MACs) and an untied, bias-free LM head.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .layers import attention_macs, linear
from .units import BIT_WIDTHS, bytes_for, flops_from_macs
from .validate import check_choice, check_int

__all__ = ["ATTENTION_TERMS", "TransformerConfig", "TransformerCost", "transformer_cost"]

KINDS = ("encoder", "decoder")
ATTENTION_TERMS = ("attention_scores", "attention_values")  # the two seq_len x seq_len matmuls


@dataclass(frozen=True)
class TransformerConfig:
    """A stack of transformer blocks, as nanoGPT's GPTConfig: the sizes, not the input.

    d_ff defaults to 4 * d_model. With vocab_size > 0 a token embedding (vocab_size x d_model)
    and an LM head (d_model -> vocab_size, no bias) are added. `bits` is the width at which the
    weights, the attention matrix and the KV cache are stored.
    """

    d_model: int
    n_heads: int
    n_layers: int = 1
    d_ff: int = field(default=None)  # type: ignore[assignment]  # None: 4 * d_model
    vocab_size: int = 0
    kind: str = "encoder"
    bits: int = 32

    def __post_init__(self) -> None:
        check_int("d_model", self.d_model)
        check_int("n_heads", self.n_heads)
        if self.d_model % self.n_heads:
            raise ValueError(
                f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})"
            )
        check_int("n_layers", self.n_layers)
        if self.d_ff is None:
            object.__setattr__(self, "d_ff", 4 * self.d_model)
        check_int("d_ff", self.d_ff)
        check_int("vocab_size", self.vocab_size, minimum=0)
        check_choice("kind", self.kind, KINDS)
        check_choice("bits", self.bits, BIT_WIDTHS)


@dataclass(frozen=True)
class TransformerCost:
    """Cost of one forward pass. `breakdown` maps each term to its MACs (all layers, batch)."""

    params: int
    macs: int
    breakdown: dict[str, int]
    params_breakdown: dict[str, int]
    attention_matrix_bytes: float  # one layer's batch x heads x seq_len^2 scores at `bits`
    kv_cache_bytes: float  # keys and values of every layer for seq_len tokens at `bits`
    weight_bytes: float  # params x bits / 8

    @property
    def flops(self) -> int:
        return flops_from_macs(self.macs)

    def macs_of(self, *terms: str) -> int:
        """MACs of some `breakdown` terms, added up: cost.macs_of(*ATTENTION_TERMS)."""
        return sum(self.breakdown[term] for term in terms)


def transformer_cost(
    config: TransformerConfig, seq_len: int, *, batch: int = 1, memory_len: int | None = None
) -> TransformerCost:
    """Params, MACs and attention memory of `config`'s blocks on `seq_len` tokens, built from the
    layer formulas (widgets.core.layers: linear and attention_macs).

    `memory_len` (decoder only) is the length of the encoder output that cross-attention reads,
    by default seq_len.
    """
    if not isinstance(config, TransformerConfig):
        raise TypeError(f"config must be a TransformerConfig, got {type(config).__name__}")
    tokens = check_int("seq_len", seq_len)
    check_int("batch", batch)
    memory = tokens if memory_len is None else check_int("memory_len", memory_len)
    if config.kind == "encoder" and memory_len is not None:
        raise ValueError("memory_len is only for kind='decoder' (the length cross-attention reads)")

    d, d_ff, rows = config.d_model, config.d_ff, batch * tokens

    def projection(vectors: int, d_in: int, d_out: int, bias: bool = True):
        return linear(input_shape=(vectors, d_in), in_features=d_in, out_features=d_out, bias=bias)

    def scores(keys: int) -> int:  # Q K^T, and as many again for softmax(.) V
        return attention_macs(batch=batch, queries=tokens, keys=keys, d_model=d)

    # self-attention: Q, K, V projections (torch's in_proj), the two token-by-token matmuls, the
    # output projection; then the FFN's two linear layers; 2 layer norms of 2 d params each
    qkv, out = projection(rows, d, 3 * d), projection(rows, d, d)
    ffn_in, ffn_out = projection(rows, d, d_ff), projection(rows, d_ff, d)
    per_layer = {
        "qkv_projection": qkv.macs,
        "attention_scores": scores(tokens),
        "attention_values": scores(tokens),
        "output_projection": out.macs,
        "ffn": ffn_in.macs + ffn_out.macs,
    }
    layer_params = {
        "attention": qkv.params + out.params,
        "ffn": ffn_in.params + ffn_out.params,
        "layer_norm": 2 * 2 * d,
    }
    if (
        config.kind == "decoder"
    ):  # cross-attention: queries from the decoder, keys/values from memory
        query, key_value = projection(rows, d, d), projection(batch * memory, d, 2 * d)
        per_layer["qkv_projection"] += query.macs + key_value.macs
        per_layer["attention_scores"] += scores(memory)
        per_layer["attention_values"] += scores(memory)
        per_layer["output_projection"] += out.macs
        layer_params["attention"] += qkv.params + out.params
        layer_params["layer_norm"] += 2 * d

    head = projection(rows, d, config.vocab_size, bias=False) if config.vocab_size else None
    breakdown = {term: config.n_layers * macs for term, macs in per_layer.items()}
    breakdown["embedding"] = 0  # a table lookup
    breakdown["lm_head"] = head.macs if head else 0
    params_breakdown = {term: config.n_layers * count for term, count in layer_params.items()}
    params_breakdown["embedding"] = config.vocab_size * d
    params_breakdown["lm_head"] = head.params if head else 0
    params = sum(params_breakdown.values())
    return TransformerCost(
        params=params,
        macs=sum(breakdown.values()),
        breakdown=breakdown,
        params_breakdown=params_breakdown,
        attention_matrix_bytes=bytes_for(batch * config.n_heads * tokens * tokens, config.bits),
        kv_cache_bytes=bytes_for(2 * config.n_layers * batch * tokens * d, config.bits),
        weight_bytes=bytes_for(params, config.bits),
    )
