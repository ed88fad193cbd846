"""Params and MACs of a transformer, by formula, term by term.

Counting convention: 1 MAC = 1 multiply + 1 add; FLOPs = 2 x MACs. Bias adds, softmax, layer norm
and activations cost no MACs (torch's FlopCounterMode counts none of them either); their
parameters are counted. The blocks are torch's `nn.TransformerEncoderLayer` (self-attention +
FFN, 2 layer norms) and `nn.TransformerDecoderLayer` (masked self-attention + cross-attention
over the encoder's output + FFN, 3 layer norms); a causal mask does not reduce the work torch
does. Optional token embedding (a lookup: params, no MACs) and an untied, bias-free LM head.
"""

from __future__ import annotations

from dataclasses import dataclass

from .units import BIT_WIDTHS
from .validate import check_choice, check_int

__all__ = ["ATTENTION_TERMS", "TransformerCost", "transformer_cost"]

KINDS = ("encoder", "decoder")
ATTENTION_TERMS = ("attention_scores", "attention_values")  # the two seq_len x seq_len matmuls


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
        return 2 * self.macs

    def macs_of(self, *terms: str) -> int:
        """MACs of some `breakdown` terms, added up: cost.macs_of(*ATTENTION_TERMS)."""
        return sum(self.breakdown[term] for term in terms)


def transformer_cost(
    d_model: int,
    n_heads: int,
    seq_len: int,
    n_layers: int = 1,
    d_ff: int | None = None,
    vocab_size: int = 0,
    kind: str = "encoder",
    batch: int = 1,
    memory_len: int | None = None,
    bits: int = 32,
) -> TransformerCost:
    """Params, MACs and attention memory of `n_layers` transformer blocks on `seq_len` tokens.

    d_ff defaults to 4 * d_model; `memory_len` (decoder only) is the length of the encoder
    output that cross-attention reads, by default seq_len. With vocab_size > 0 an embedding
    table (vocab_size x d_model) and an LM head (d_model -> vocab_size, no bias) are added.
    """
    check_int("d_model", d_model)
    check_int("n_heads", n_heads)
    if d_model % n_heads:
        raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
    tokens = check_int("seq_len", seq_len)
    check_int("n_layers", n_layers)
    d_ff = 4 * d_model if d_ff is None else check_int("d_ff", d_ff)
    check_int("vocab_size", vocab_size, minimum=0)
    check_choice("kind", kind, KINDS)
    check_int("batch", batch)
    memory = tokens if memory_len is None else check_int("memory_len", memory_len)
    check_choice("bits", bits, BIT_WIDTHS)
    if kind == "encoder" and memory_len is not None:
        raise ValueError("memory_len is only for kind='decoder' (the length cross-attention reads)")

    d, rows = d_model, batch * tokens  # every projection is a (rows x d) @ (d x d_out) matmul
    # Self-attention: Q, K, V projections; Q K^T and softmax(.) V, each (S x S x d) per sequence.
    per_layer = {
        "qkv_projection": 3 * rows * d * d,
        "attention_scores": batch * tokens * tokens * d,
        "attention_values": batch * tokens * tokens * d,
        "output_projection": rows * d * d,
        "ffn": 2 * rows * d * d_ff,
    }
    attention_params = 4 * d * d + 4 * d  # in_proj (3d x d) + out_proj (d x d), with biases
    layer_params = {
        "attention": attention_params,
        "ffn": 2 * d * d_ff + d_ff + d,
        "layer_norm": 2 * 2 * d,
    }
    if kind == "decoder":  # cross-attention: queries from the decoder, keys/values from memory
        per_layer["qkv_projection"] += rows * d * d + 2 * batch * memory * d * d
        per_layer["attention_scores"] += batch * tokens * memory * d
        per_layer["attention_values"] += batch * tokens * memory * d
        per_layer["output_projection"] += rows * d * d
        layer_params["attention"] += attention_params
        layer_params["layer_norm"] += 2 * d

    breakdown = {term: n_layers * macs for term, macs in per_layer.items()}
    breakdown["embedding"] = 0  # a table lookup
    breakdown["lm_head"] = rows * d * vocab_size
    params_breakdown = {term: n_layers * count for term, count in layer_params.items()}
    params_breakdown["embedding"] = vocab_size * d
    params_breakdown["lm_head"] = d * vocab_size
    params = sum(params_breakdown.values())
    return TransformerCost(
        params=params,
        macs=sum(breakdown.values()),
        breakdown=breakdown,
        params_breakdown=params_breakdown,
        attention_matrix_bytes=batch * n_heads * tokens * tokens * bits / 8,
        kv_cache_bytes=2 * n_layers * batch * tokens * d * bits / 8,
        weight_bytes=params * bits / 8,
    )
