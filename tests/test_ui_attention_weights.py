"""AttentionWeightsExplorer shows widgets.core.tokens.attention_weights, with the causal mask."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import check_random_settings, check_same_pictures_as_new, count_full_draws
from torch.testing import assert_close

from widgets.core.tokens import attention_weights, text_to_vectors
from widgets.ui.attention_weights import (
    D_MODEL,
    SENTENCES,
    AttentionWeightsExplorer,
    seeded_attention,
)


@pytest.fixture(scope="module")
def explorer() -> AttentionWeightsExplorer:
    return AttentionWeightsExplorer()


def core_weights(sentence: str, level: str, n_heads: int, head: int, causal: bool) -> np.ndarray:
    vectors = text_to_vectors(sentence, d_model=D_MODEL, level=level)
    return attention_weights(vectors.inputs, seeded_attention(n_heads), causal=causal)[head].numpy()


def shown(ex: AttentionWeightsExplorer) -> np.ma.MaskedArray:
    return ex.image.get_array()


def test_heat_map_is_the_core_weights(explorer):
    ex = explorer
    ex.set(sentence="The cat sat on the mat.", level="word", n_heads=2, head=1, causal=False)
    expected = core_weights("The cat sat on the mat.", "word", 2, 1, False)
    assert ex.message == ""
    assert_close(torch.from_numpy(shown(ex).filled(np.nan)), torch.from_numpy(expected))
    labels = [label.get_text() for label in ex.ax.get_xticklabels()]
    assert labels == ["the", "cat", "sat", "on", "the", "mat", "."]
    assert ex.readouts["tokens"] == 7 and ex.readouts["d_head"] == 8
    assert ex.readouts["masked"] == 0
    assert ex.readouts["row_sums"] == "1.0000 to 1.0000"
    assert float(ex.readouts["torch_difference"]) < 1e-5  # nn.MultiheadAttention agrees


def test_causal_mask_zeros_are_shown_grey(explorer):
    ex = explorer
    ex.set(sentence="Attention is all you need.", level="word", n_heads=1, head=0, causal=True)
    image = shown(ex)
    n = 6
    above = np.triu(np.ones((n, n), bool), k=1)
    assert np.array_equal(np.ma.getmaskarray(image), above)  # the grey cells
    assert np.all(image.data[above] == 0)  # exactly 0 underneath
    assert ex.readouts["masked"] == n * (n - 1) // 2
    assert ex.note.get_text() == "grey: masked, weight exactly 0 (15 cells)"
    assert_close(torch.from_numpy(image.data), torch.from_numpy(core_weights(
        "Attention is all you need.", "word", 1, 0, True)))  # fmt: skip
    ex.set(causal=False)
    assert not np.ma.getmaskarray(shown(ex)).any() and ex.note.get_text() == ""


def test_characters_are_tokens_too(explorer):
    explorer.set(sentence="The cat sat on the mat.", level="char", n_heads=2, head=0)
    assert explorer.readouts["tokens"] == len("The cat sat on the mat.")
    assert shown(explorer).shape == (23, 23)


def test_no_step_draws_the_panel_in_full_and_pictures_stay_exact(monkeypatch):
    ex = AttentionWeightsExplorer()
    full_draws = count_full_draws(ex, monkeypatch)
    steps = [{"causal": True}, {"head": 1}, {"level": "char"}, {"sentence": SENTENCES[2]},
             {"level": "word", "n_heads": 4, "head": 3}, {"sentence": SENTENCES[0]}]  # fmt: skip
    for step in steps:
        ex.set(**step)
    assert full_draws == []  # every sentence's tick labels were drawn at start
    check_same_pictures_as_new(ex, steps)


def test_a_head_beyond_n_heads_is_a_message_and_the_view_stays(explorer):
    explorer.set(n_heads=4, head=3, level="word", causal=False)
    before = shown(explorer).copy()
    explorer.controls["n_heads"].value = 1
    assert explorer.message == "head must be below n_heads (1): heads 0 to 0"
    assert np.array_equal(shown(explorer), before)
    explorer.set(head=0)
    assert explorer.message == ""


def test_random_settings_never_raise(explorer):
    def check(values):
        if values["head"] < values["n_heads"]:
            assert explorer.message == ""
            assert explorer.readouts["row_sums"] == "1.0000 to 1.0000"
        else:
            assert "head must be below n_heads" in explorer.message

    check_random_settings(explorer, check, max_examples=40)
