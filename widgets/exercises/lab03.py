"""Lab 03 (transformers and attention): exercises and predictions, answers from widgets.core."""

from __future__ import annotations

import math

from widgets.core.layers import layer_cost
from widgets.core.tokens import causal_mask, sinusoidal_positional_encoding
from widgets.core.transformer import ATTENTION_TERMS, TransformerConfig, transformer_cost
from widgets.core.units import MIB

from . import Exercise, Lab, Mistake, Prediction, binary_as_si, bits_for_bytes

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
_attention_cost = layer_cost(
    "multihead_attention",
    input_shape=(1, 1, EMBED_DIM),
    embed_dim=EMBED_DIM,
    num_heads=NUM_HEADS,
)
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
    solution=[
        f"Four projections W_Q, W_K, W_V, W_O, each E x E = {EMBED_DIM} x {EMBED_DIM} with a "
        f"bias of E; the {NUM_HEADS} heads share them (each uses a slice).",
        _attention_cost.params_formula,
    ],
)

# --- where attention's MACs catch up with the rest of the block ---------------------------

D_MODEL = 768  # d_ff = 4 * d_model, as in BERT-base
# at seq_len = 1: MACs per token (linear terms) or per token squared (attention)
_per_token = transformer_cost(TransformerConfig(D_MODEL, NUM_HEADS), seq_len=1).macs_of
_linear_terms = ("qkv_projection", "output_projection", "ffn")  # MACs proportional to seq_len

# attention = seq_len^2 * a and the rest = seq_len * r meet at seq_len = r / a
_attention_per_token2 = _per_token(*ATTENTION_TERMS)
_linear_per_token = {term: _per_token(term) for term in _linear_terms}

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
    solution=[
        "MACs per token of the linear terms: "
        + ", ".join(f"{term} {macs:,}" for term, macs in _linear_per_token.items())
        + f"; together r = {_per_token(*_linear_terms):,}.",
        f"Attention (QKᵀ and softmax·V) costs a = 2 x d_model = {_attention_per_token2:,} MACs "
        "per token per token: seq_len² x a in all.",
        f"seq_len² x a = seq_len x r at seq_len = r / a = {_per_token(*_linear_terms):,} / "
        f"{_attention_per_token2:,} = {_per_token(*_linear_terms) / _attention_per_token2:g}.",
    ],
)

# --- KV cache -----------------------------------------------------------------------------

KV_LAYERS, KV_SEQ_LEN, KV_BITS = 12, 1024, 16


def _kv_cache_mib(bits: int) -> float:
    config = TransformerConfig(D_MODEL, NUM_HEADS, n_layers=KV_LAYERS, bits=bits)
    cost = transformer_cost(config, seq_len=KV_SEQ_LEN)
    return cost.kv_cache_bytes / MIB


_kv_mib = _kv_cache_mib(KV_BITS)
_kv_numbers = 2 * KV_LAYERS * KV_SEQ_LEN * D_MODEL  # a key and a value vector per layer and token

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
    solution=[
        f"Numbers kept: 2 (key and value) x {KV_LAYERS} layers x {KV_SEQ_LEN:,} tokens x "
        f"{D_MODEL} = {_kv_numbers:,}.",
        f"Bytes: {_kv_numbers:,} x {KV_BITS} / 8 = {_kv_mib * MIB:,.0f}.",
        f"MiB: {_kv_mib * MIB:,.0f} / (1024 x 1024) = {_kv_mib:g}.",
    ],
)

# --- prediction: doubling the tokens ------------------------------------------------------

SHORT, LONG = 1024, 2048
PREDICTION_D_MODEL = 512


def _macs(seq_len: int) -> int:
    return transformer_cost(TransformerConfig(PREDICTION_D_MODEL, 8), seq_len).macs


def _attention_macs(seq_len: int) -> int:
    cost = transformer_cost(TransformerConfig(PREDICTION_D_MODEL, 8), seq_len)
    return sum(cost.breakdown[term] for term in ATTENTION_TERMS)


def _doubling_step(seq_len: int) -> str:
    attention = _attention_macs(seq_len)
    return (
        f"At {seq_len:,} tokens: attention {attention:,} + the rest {_macs(seq_len) - attention:,} "
        f"= {_macs(seq_len):,} MACs."
    )


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
    solution=[
        _doubling_step(SHORT),
        _doubling_step(LONG),
        f"{_macs(LONG):,} / {_macs(SHORT):,} = {_macs(LONG) / _macs(SHORT):.3g}",
    ],
    source="computed",  # by widgets.core: nothing is timed
)

# --- tokens to vectors: the embedding table -----------------------------------------------

GPT2_VOCAB = 50_257  # GPT-2's byte-pair vocabulary
_embedding_params = transformer_cost(
    TransformerConfig(D_MODEL, NUM_HEADS, vocab_size=GPT2_VOCAB), seq_len=1
).params_breakdown["embedding"]

embedding_params = Exercise(
    question=(
        f"GPT-2 small has a vocabulary of {GPT2_VOCAB:,} tokens and d_model = {D_MODEL}. How "
        "many parameters has its token embedding table (nn.Embedding)?"
    ),
    answer=_embedding_params,
    hint="The table has one row of d_model numbers per token of the vocabulary, and no bias.",
    mistakes=[
        Mistake(GPT2_VOCAB + D_MODEL, "Each token gets a whole vector: multiply, do not add."),
        Mistake(
            2 * _embedding_params,
            "That counts a second table: an LM head of the same size (GPT-2 shares it with the "
            "embedding). The embedding alone is one table.",
        ),
        Mistake(GPT2_VOCAB, "That is one number per token: each token gets d_model of them."),
    ],
    unit="parameters",
    tolerance=0,
)

# --- sinusoidal positional encoding -------------------------------------------------------

# position 15: past the rows the lab prints (0 to 6), so the number must be computed
PE_D_MODEL, PE_POSITION, PE_COLUMN = 8, 15, 2
_pe = sinusoidal_positional_encoding(PE_POSITION + 1, PE_D_MODEL).double()

positional_value = Exercise(
    question=(
        f"With d_model = {PE_D_MODEL}, what is the sinusoidal positional encoding "
        f"PE[{PE_POSITION}, {PE_COLUMN}] (position {PE_POSITION}, column {PE_COLUMN}), with "
        "PE[pos, 2i] = sin(pos / 10000^(2i / d_model))?"
    ),
    answer=float(_pe[PE_POSITION, PE_COLUMN]),
    hint=(
        f"Column {PE_COLUMN} is 2i with i = {PE_COLUMN // 2}: the angle is "
        f"{PE_POSITION} / 10000^({PE_COLUMN}/{PE_D_MODEL}), in radians."
    ),
    mistakes=[
        Mistake(
            float(_pe[PE_POSITION, PE_COLUMN + 1]),
            "That is the cosine, column 2i + 1: even columns are sines.",
        ),
        Mistake(math.sin(PE_POSITION), "That leaves out the frequency 1 / 10000^(2i / d_model)."),
        Mistake(
            math.sin(math.radians(PE_POSITION / 10000 ** (PE_COLUMN / PE_D_MODEL))),
            "That takes the angle in degrees: sin takes radians.",
        ),
    ],
    tolerance=0.01,
)

# --- the causal mask ----------------------------------------------------------------------

MASK_TOKENS = 10
_mask = causal_mask(MASK_TOKENS)

masked_weights = Exercise(
    question=(
        f"A decoder's causal mask over {MASK_TOKENS} tokens: how many of one head's "
        f"{MASK_TOKENS} x {MASK_TOKENS} attention weights are exactly 0?"
    ),
    answer=int((~_mask).sum()),
    hint="Token i sees itself and the tokens before it; count the keys each query cannot see.",
    mistakes=[
        Mistake(int(_mask.sum()), "That counts the weights that are kept: the diagonal too."),
        Mistake(
            MASK_TOKENS**2 / 2, "Half the matrix would split the diagonal: a token sees itself."
        ),
        Mistake(0, "Without a mask none is 0; the causal mask removes every later token."),
    ],
    unit="weights",
    tolerance=0,
)

lab = Lab(globals())
progress, __getattr__, __dir__ = lab.progress, lab.module_getattr, lab.module_dir
