"""Tokens, embeddings, positional encoding and attention weights, checked against torch."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from widgets.core.tokens import (
    UNKNOWN,
    attention_weights,
    build_vocabulary,
    causal_mask,
    sinusoidal_positional_encoding,
    text_to_vectors,
)

SENTENCE = "The cat sat on the mat."


def test_word_vocabulary_is_built_from_the_text():
    vocabulary = build_vocabulary(SENTENCE)
    assert vocabulary.tokens == (UNKNOWN, "the", "cat", "sat", "on", "mat", ".")
    assert vocabulary.encode(SENTENCE) == [1, 2, 3, 4, 1, 5, 6]
    assert vocabulary.decode(vocabulary.encode(SENTENCE)) == vocabulary.split(SENTENCE)
    assert vocabulary.encode("the dog sat") == [1, 0, 3]  # unknown word -> id 0


def test_character_vocabulary():
    vocabulary = build_vocabulary("abba", level="char")
    assert vocabulary.tokens == (UNKNOWN, "a", "b")
    assert vocabulary.encode("abc") == [1, 2, 0]


def test_embedding_table_is_vocab_by_d_model_and_a_lookup():
    vectors = text_to_vectors(SENTENCE, d_model=16)
    table = vectors.embedding
    assert isinstance(table, nn.Embedding)
    assert sum(p.numel() for p in table.parameters()) == len(vectors.vocabulary) * 16 == 7 * 16
    torch.testing.assert_close(vectors.token_vectors, table.weight[vectors.ids].detach())
    torch.testing.assert_close(vectors.inputs, vectors.token_vectors + vectors.positional_encoding)
    # the same word gets the same vector, wherever it is
    torch.testing.assert_close(vectors.token_vectors[0], vectors.token_vectors[4])
    assert not torch.equal(vectors.inputs[0], vectors.inputs[4])  # but not the same input


def test_text_to_vectors_is_seeded_and_leaves_the_random_state_alone():
    state = torch.random.get_rng_state()
    first, second = text_to_vectors(SENTENCE, seed=3), text_to_vectors(SENTENCE, seed=3)
    torch.testing.assert_close(first.token_vectors, second.token_vectors)
    assert torch.equal(torch.random.get_rng_state(), state)


@pytest.mark.parametrize(("positions", "d_model"), [(10, 8), (50, 64), (7, 5)])
def test_positional_encoding_against_a_direct_computation(positions, d_model):
    encoding = sinusoidal_positional_encoding(positions, d_model)
    assert encoding.shape == (positions, d_model) and encoding.dtype == torch.float32
    expected = torch.tensor(
        [
            [
                math.sin(pos / 10000 ** (dim / d_model))
                if dim % 2 == 0
                else math.cos(pos / 10000 ** ((dim - 1) / d_model))
                for dim in range(d_model)
            ]
            for pos in range(positions)
        ]
    )
    torch.testing.assert_close(encoding, expected)
    assert torch.all(encoding[0, 0::2] == 0) and torch.all(encoding[0, 1::2] == 1)


def test_causal_mask_is_lower_triangular():
    mask = causal_mask(4)
    assert mask.tolist() == [
        [True, False, False, False],
        [True, True, False, False],
        [True, True, True, False],
        [True, True, True, True],
    ]


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("heads", [1, 2, 4])
def test_attention_weights_equal_torchs(causal, heads):
    torch.manual_seed(0)
    d_model, n_tokens = 16, 7
    attention = nn.MultiheadAttention(d_model, heads, batch_first=True).eval()
    x = torch.randn(n_tokens, d_model)
    weights = attention_weights(x, attention, causal=causal)
    assert weights.shape == (heads, n_tokens, n_tokens)
    mask = ~causal_mask(n_tokens) if causal else None  # torch: True = not allowed
    with torch.no_grad():
        output, expected = attention(
            x[None], x[None], x[None], attn_mask=mask, average_attn_weights=False
        )
    torch.testing.assert_close(weights, expected[0])
    torch.testing.assert_close(weights.sum(-1), torch.ones(heads, n_tokens))
    if causal:  # the mask's zeros are exact zeros
        assert torch.all(weights[:, ~causal_mask(n_tokens)] == 0)
        assert torch.all(weights[:, causal_mask(n_tokens)] > 0)
    # weights @ V and the output projection give what scaled_dot_product_attention gives
    d_head = d_model // heads
    _, _, w_v = attention.in_proj_weight.chunk(3)
    _, _, b_v = attention.in_proj_bias.chunk(3)
    with torch.no_grad():
        v = (x @ w_v.T + b_v).view(n_tokens, heads, d_head).transpose(0, 1)
        w_q, w_k, _ = attention.in_proj_weight.chunk(3)
        b_q, b_k, _ = attention.in_proj_bias.chunk(3)
        q = (x @ w_q.T + b_q).view(n_tokens, heads, d_head).transpose(0, 1)
        k = (x @ w_k.T + b_k).view(n_tokens, heads, d_head).transpose(0, 1)
        sdpa = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        torch.testing.assert_close(weights @ v, sdpa)
        mixed = (weights @ v).transpose(0, 1).reshape(n_tokens, d_model)
        torch.testing.assert_close(attention.out_proj(mixed), output[0])


def test_bad_input():
    with pytest.raises(ValueError, match="level"):
        build_vocabulary(SENTENCE, level="byte")
    with pytest.raises(TypeError, match="text must be a string"):
        build_vocabulary(42)
    with pytest.raises(ValueError, match="text has no tokens"):
        text_to_vectors("   ")
    with pytest.raises(ValueError, match="n_positions must be at most 4,096"):
        sinusoidal_positional_encoding(10**9, 8)
    with pytest.raises(ValueError, match="d_model must be a positive integer"):
        sinusoidal_positional_encoding(10, 0)
    attention = nn.MultiheadAttention(8, 2)
    with pytest.raises(ValueError, match=r"x must have shape \(tokens, 8\)"):
        attention_weights(torch.zeros(3, 4), attention)
