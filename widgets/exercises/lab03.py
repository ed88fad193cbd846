"""Lab 03 (transformers and attention): exercises and predictions, answers from widgets.core."""

from __future__ import annotations

from widgets.core.layers import layer_cost
from widgets.core.transformer import ATTENTION_TERMS, transformer_cost
from widgets.core.units import MIB

from . import Exercise, Mistake, Prediction, binary_as_si, bits_for_bytes

# --- parameters of one multi-head self-attention ------------------------------------------

EMBED_DIM, NUM_HEADS = 768, 12  # BERT-base / GPT-2 small


def _attention_params(bias: bool = True) -> int:
    return layer_cost(
        "multihead_attention",
        input_shape=(1, 1, EMBED_DIM),
        embed_dim=EMBED_DIM,
        num_heads=NUM_HEADS,
        bias=bias,
    ).params


_params = _attention_params()
_projection_params = layer_cost(  # one E x E matrix and its bias
    "linear", input_shape=(1, EMBED_DIM), in_features=EMBED_DIM, out_features=EMBED_DIM
).params

attention_params = Exercise(
    question=(
        f"How many parameters (weights and biases) has "
        f"nn.MultiheadAttention(embed_dim={EMBED_DIM}, num_heads={NUM_HEADS})?"
    ),
    answer=_params,
    hint="Count the projections: W_Q, W_K, W_V and the output projection W_O, each E x E plus a bias.",
    mistakes=[
        Mistake(
            _attention_params(bias=False), "That is the weights only: each projection has E biases."
        ),
        Mistake(
            _params - _projection_params,
            "That is Q, K and V only: the heads' outputs go through one more projection, W_O.",
        ),
        Mistake(
            _params * NUM_HEADS,
            "The heads do not get projections of their own: each head uses a "
            "d_model / n_heads slice of the same W_Q, W_K and W_V.",
        ),
    ],
    unit="parameters",
    tolerance=0,
)

# --- where attention's MACs catch up with the rest of the block ---------------------------

D_MODEL = 768  # d_ff = 4 * d_model, as in BERT-base
# at seq_len = 1: MACs per token (linear terms) or per token squared (attention)
_per_token = transformer_cost(d_model=D_MODEL, n_heads=NUM_HEADS, seq_len=1).macs_of
_linear_terms = ("qkv_projection", "output_projection", "ffn")  # MACs proportional to seq_len

# attention = seq_len^2 * a and the rest = seq_len * r meet at seq_len = r / a
_attention_per_token2 = _per_token(*ATTENTION_TERMS)

attention_catches_up = Exercise(
    question=(
        f"In one encoder block with d_model = {D_MODEL} and d_ff = 4 x d_model, from which "
        "sequence length on do attention's MACs (QKᵀ and softmax·V) equal the MACs of all the "
        "rest (the Q, K, V and output projections and the FFN)?"
    ),
    answer=_per_token(*_linear_terms) / _attention_per_token2,
    hint=(
        "Per token, the projections and the FFN cost a fixed number of MACs, while QKᵀ and "
        "softmax·V cost seq_len x d_model each. Set the two totals equal and solve for seq_len."
    ),
    mistakes=[
        Mistake(
            _per_token("ffn") / _attention_per_token2,
            "That is where attention catches up with the FFN alone (the explorer's marker); "
            "add the four projections.",
        ),
        Mistake(
            _per_token(*_linear_terms) / _per_token("attention_scores"),
            "That counts QKᵀ only: softmax·V costs as many MACs again.",
        ),
        Mistake(
            _per_token("qkv_projection", "output_projection") / _attention_per_token2,
            "That leaves out the FFN, the largest of the linear terms.",
        ),
    ],
    unit="tokens",
)

# --- KV cache -----------------------------------------------------------------------------

KV_LAYERS, KV_SEQ_LEN, KV_BITS = 12, 1024, 16


def _kv_cache_mib(bits: int) -> float:
    cost = transformer_cost(
        d_model=D_MODEL, n_heads=NUM_HEADS, seq_len=KV_SEQ_LEN, n_layers=KV_LAYERS, bits=bits
    )
    return cost.kv_cache_bytes / MIB


_kv_mib = _kv_cache_mib(KV_BITS)

kv_cache_mib = Exercise(
    question=(
        f"A GPT-2-small-like decoder ({KV_LAYERS} layers, d_model = {D_MODEL}) generates "
        f"{KV_SEQ_LEN:,} tokens in {KV_BITS}-bit floats. How many MiB does its KV cache take "
        "(the keys and values of every layer for every token, batch 1)?"
    ),
    answer=_kv_mib,
    hint=(
        "Each layer keeps one key and one value vector of d_model numbers per token; each "
        "number takes bits / 8 bytes; 1 MiB = 1024 x 1024 bytes."
    ),
    mistakes=[
        bits_for_bytes(_kv_mib),
        binary_as_si(_kv_mib, "Mi"),
        Mistake(_kv_mib / 2, "That is the keys only (or the values only): the cache holds both."),
        Mistake(_kv_cache_mib(32), "That is at 32 bits; the question says 16-bit floats."),
    ],
    unit="MiB",
)

# --- prediction: doubling the tokens ------------------------------------------------------

SHORT, LONG = 1024, 2048
PREDICTION_D_MODEL = 512


def _macs(seq_len: int) -> int:
    return transformer_cost(d_model=PREDICTION_D_MODEL, n_heads=8, seq_len=seq_len).macs


double_tokens = Prediction(
    question=(
        f"An encoder block (d_model = {PREDICTION_D_MODEL}, d_ff = {4 * PREDICTION_D_MODEL}) "
        f"reads {SHORT:,} tokens. By what factor do its total MACs grow when it reads "
        f"{LONG:,} tokens instead?"
    ),
    measured=_macs(LONG) / _macs(SHORT),
    explanation=(
        "The projections and the FFN grow with the tokens (x 2) and attention with their square "
        "(x 4). At this length attention is only part of the MACs, so the total grows by "
        "between 2 and 4; the longer the sequence, the closer to 4."
    ),
    unit="times",
    source="computed",  # by widgets.core: nothing is timed
)
