"""From text to vectors (lab 3): tokens, the embedding table, positional encoding, attention weights.

A transformer does not read text. (a) A tokenizer cuts the text into tokens and gives each an
integer id from a vocabulary; (b) an embedding table (vocab_size x d_model parameters, a lookup,
`nn.Embedding`) turns each id into a vector; (c) a positional encoding is added, since attention
itself ignores the order of the tokens; then come the transformer blocks and a prediction head.
The tokenizers here need no download: characters, or words split at spaces, with a vocabulary
built from the text itself (real models learn sub-word vocabularies of 30-100 K tokens, e.g. BPE).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import torch
from torch import nn

from .validate import check_choice, check_int

__all__ = [
    "LEVELS",
    "UNKNOWN",
    "TextVectors",
    "Vocabulary",
    "attention_weights",
    "build_vocabulary",
    "causal_mask",
    "sinusoidal_positional_encoding",
    "text_to_vectors",
]

LEVELS = ("word", "char")
UNKNOWN = "<unk>"  # id 0: any token not in the vocabulary
MAX_POSITIONS = (
    4096  # the positional encodings computed at most (refused beyond, before allocating)
)
MAX_D_MODEL = 4096


@dataclass(frozen=True)
class Vocabulary:
    """Tokens and their ids; `level` says how text is cut: "word" (at spaces and punctuation)
    or "char" (one token per character)."""

    level: str
    tokens: tuple[str, ...]  # tokens[id]; tokens[0] is UNKNOWN

    def __len__(self) -> int:
        return len(self.tokens)

    def split(self, text: str) -> list[str]:
        """The text cut into tokens (lower-cased words and punctuation marks, or characters)."""
        return split(text, self.level)

    def encode(self, text: str) -> list[int]:
        """Token ids of `text`; a token not in the vocabulary gets id 0 (UNKNOWN)."""
        ids = {token: index for index, token in enumerate(self.tokens)}
        return [ids.get(token, 0) for token in self.split(text)]

    def decode(self, ids: list[int]) -> list[str]:
        """The tokens of `ids`."""
        return [self.tokens[i] for i in ids]


def split(text: str, level: str = "word") -> list[str]:
    """Cut `text` into tokens: lower-cased words and punctuation marks, or characters."""
    check_choice("level", level, LEVELS)
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    return re.findall(r"\w+|[^\w\s]", text.lower()) if level == "word" else list(text)


def build_vocabulary(text: str, level: str = "word") -> Vocabulary:
    """A vocabulary of every distinct token of `text`, in order of first appearance, after
    UNKNOWN (id 0)."""
    tokens = dict.fromkeys(split(text, level))
    tokens.pop(UNKNOWN, None)
    return Vocabulary(level, (UNKNOWN, *tokens))


def sinusoidal_positional_encoding(n_positions: int, d_model: int) -> torch.Tensor:
    """The (n_positions, d_model) sinusoidal encoding of Vaswani et al. (2017), float32:

        PE[pos, 2i]     = sin(pos / 10000^(2i / d_model))
        PE[pos, 2i + 1] = cos(pos / 10000^(2i / d_model))

    Each pair of columns is a sine and a cosine of one frequency; the frequencies fall
    geometrically from 1 (columns 0, 1) to almost 1/10000, so every position gets its own pattern.
    """
    _check_size("n_positions", n_positions, MAX_POSITIONS)
    _check_size("d_model", d_model, MAX_D_MODEL)
    position = torch.arange(n_positions, dtype=torch.float64)[:, None]
    pair = torch.arange(0, d_model, 2, dtype=torch.float64)  # 2i
    angle = position / 10000 ** (pair / d_model)  # (n_positions, ceil(d_model / 2))
    encoding = torch.empty(n_positions, d_model, dtype=torch.float64)
    encoding[:, 0::2] = torch.sin(angle)
    encoding[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return encoding.float()


def _check_size(name: str, value: int, maximum: int) -> int:
    """A positive integer up to `maximum`, refused before anything is allocated."""
    value = check_int(name, value)
    if value > maximum:
        raise ValueError(f"{name} must be at most {maximum:,}, got {value:,}")
    return value


def causal_mask(n_tokens: int) -> torch.Tensor:
    """(n_tokens, n_tokens) bool: True where query i may attend to key j, i.e. j <= i.

    A decoder generates text left to right, so a token must not see the tokens after it: its
    weights for them are 0 (their scores are set to -inf before the softmax).
    """
    _check_size("n_tokens", n_tokens, MAX_POSITIONS)
    return torch.ones(n_tokens, n_tokens, dtype=torch.bool).tril()


@dataclass(frozen=True)
class TextVectors:
    """One sentence on its way into a transformer. Tensors have no batch dimension."""

    tokens: list[str]
    ids: list[int]
    vocabulary: Vocabulary
    embedding: nn.Embedding  # vocab_size x d_model parameters
    token_vectors: torch.Tensor  # (tokens, d_model): embedding(ids)
    positional_encoding: torch.Tensor  # (tokens, d_model)

    @property
    def inputs(self) -> torch.Tensor:
        """What the first transformer block reads: token vectors + positional encoding."""
        return self.token_vectors + self.positional_encoding


def text_to_vectors(
    text: str,
    d_model: int = 16,
    level: str = "word",
    vocabulary: Vocabulary | None = None,
    seed: int = 0,
) -> TextVectors:
    """Tokenize `text` (with `vocabulary`, by default one built from `text`), look the ids up in
    a seeded random nn.Embedding(vocab_size, d_model), and add the positional encoding."""
    _check_size("d_model", d_model, MAX_D_MODEL)
    vocabulary = build_vocabulary(text, level) if vocabulary is None else vocabulary
    ids = vocabulary.encode(text)
    if not ids:
        raise ValueError(f"text has no tokens: {text!r}")
    _check_size("number of tokens", len(ids), MAX_POSITIONS)
    with torch.random.fork_rng(devices=[]):  # the learner's random state is left untouched
        torch.manual_seed(seed)
        embedding = nn.Embedding(len(vocabulary), d_model)
    with torch.no_grad():
        token_vectors = embedding(torch.tensor(ids))
    return TextVectors(
        tokens=vocabulary.decode(ids),
        ids=ids,
        vocabulary=vocabulary,
        embedding=embedding,
        token_vectors=token_vectors,
        positional_encoding=sinusoidal_positional_encoding(len(ids), d_model),
    )


def attention_weights(
    x: torch.Tensor, attention: nn.MultiheadAttention, causal: bool = False
) -> torch.Tensor:
    """(heads, tokens, tokens) self-attention weights softmax(Q K^T / sqrt(d_head)) of one
    sequence x (tokens, d_model), with the Q and K projections of `attention`; with `causal`,
    the decoder's mask: scores of later tokens are -inf, so their weights are exactly 0."""
    if x.dim() != 2 or x.shape[1] != attention.embed_dim:
        raise ValueError(f"x must have shape (tokens, {attention.embed_dim}), got {tuple(x.shape)}")
    n_tokens, d_model = x.shape
    heads, d_head = attention.num_heads, d_model // attention.num_heads
    w_q, w_k, _ = attention.in_proj_weight.chunk(3)
    b_q, b_k, _ = attention.in_proj_bias.chunk(3)
    with torch.no_grad():
        q = (
            (x @ w_q.T + b_q).view(n_tokens, heads, d_head).transpose(0, 1)
        )  # (heads, tokens, d_head)
        k = (x @ w_k.T + b_k).view(n_tokens, heads, d_head).transpose(0, 1)
        scores = q @ k.transpose(1, 2) / math.sqrt(d_head)  # (heads, tokens, tokens)
        if causal:
            scores = scores.masked_fill(~causal_mask(n_tokens), float("-inf"))
        return scores.softmax(dim=-1)
