"""transformer_cost(): formulas agree with profile() of torch's own transformer blocks."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import widgets


class LanguageModel(nn.Module):
    """Embedding -> torch's encoder or decoder blocks -> LM head, as transformer_cost assumes."""

    def __init__(self, d_model, n_heads, n_layers, d_ff, vocab_size, kind):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, d_model)
        if kind == "encoder":
            layer = nn.TransformerEncoderLayer(d_model, n_heads, d_ff, batch_first=True)
            self.blocks = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        else:
            layer = nn.TransformerDecoderLayer(d_model, n_heads, d_ff, batch_first=True)
            self.blocks = nn.TransformerDecoder(layer, n_layers)
        self.lm_head = nn.Linear(d_model, vocab_size, bias=False)
        self.kind = kind

    def forward(self, tokens, memory=None):
        x = self.embed(tokens)
        x = self.blocks(x) if self.kind == "encoder" else self.blocks(x, memory)
        return self.lm_head(x)


def profile_blocks(d_model, n_heads, seq_len, n_layers, d_ff, kind, batch, memory_len, vocab):
    with torch.device("meta"):
        model = LanguageModel(d_model, n_heads, n_layers, d_ff, max(vocab, 1), kind)
    if vocab == 0:  # no embedding and no head: profile the blocks alone
        model = model.blocks
        inputs = (torch.empty(batch, seq_len, d_model),)
    else:
        inputs = (torch.zeros(batch, seq_len, dtype=torch.long),)
    if kind == "decoder":
        inputs = (*inputs, torch.empty(batch, memory_len, d_model))
    return widgets.profile(model, inputs=inputs)


@settings(max_examples=40, deadline=None)
@given(
    head_dim=st.integers(1, 16),
    n_heads=st.integers(1, 6),
    seq_len=st.integers(1, 300),
    n_layers=st.integers(1, 3),
    d_ff=st.integers(1, 200),
    kind=st.sampled_from(["encoder", "decoder"]),
    batch=st.integers(1, 4),
    memory_len=st.integers(1, 50),
    vocab=st.sampled_from([0, 7, 1000]),
)
def test_agrees_with_profile_of_torch_blocks(
    head_dim, n_heads, seq_len, n_layers, d_ff, kind, batch, memory_len, vocab
):
    d_model = head_dim * n_heads
    memory = memory_len if kind == "decoder" else None
    config = widgets.TransformerConfig(d_model, n_heads, n_layers, d_ff, vocab, kind)
    cost = widgets.transformer_cost(config, seq_len, batch=batch, memory_len=memory)
    prof = profile_blocks(d_model, n_heads, seq_len, n_layers, d_ff, kind, batch, memory, vocab)
    assert cost.params == prof.params
    assert cost.macs == prof.macs


def test_breakdown_of_bert_base_layer():
    cost = widgets.transformer_cost(widgets.TransformerConfig(768, 12), 512)
    d, s = 768, 512
    assert cost.breakdown["qkv_projection"] == 3 * s * d * d
    assert cost.breakdown["attention_scores"] == s * s * d
    assert cost.breakdown["attention_values"] == s * s * d
    assert cost.breakdown["output_projection"] == s * d * d
    assert cost.breakdown["ffn"] == 2 * s * d * 4 * d
    assert cost.params == 7_087_872  # one BERT-base encoder layer
    assert cost.flops == 2 * cost.macs
    assert sum(cost.breakdown.values()) == cost.macs
    assert sum(cost.params_breakdown.values()) == cost.params


def test_attention_grows_quadratically_weights_do_not():
    config = widgets.TransformerConfig(512, 8)
    short = widgets.transformer_cost(config, 1024)
    long = widgets.transformer_cost(config, 2048)
    assert long.params == short.params
    assert long.breakdown["attention_scores"] == 4 * short.breakdown["attention_scores"]
    assert long.breakdown["ffn"] == 2 * short.breakdown["ffn"]
    assert long.attention_matrix_bytes == 4 * short.attention_matrix_bytes


def test_memory_terms():
    cost = widgets.transformer_cost(
        widgets.TransformerConfig(64, 4, n_layers=3, bits=16), 100, batch=2
    )
    assert cost.attention_matrix_bytes == 2 * 4 * 100 * 100 * 2
    assert cost.kv_cache_bytes == 2 * 3 * 2 * 100 * 64 * 2
    assert cost.weight_bytes == cost.params * 2


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"d_model": 10, "n_heads": 3},
            ValueError,
            r"d_model \(10\) must be divisible by n_heads \(3\)",
        ),
        ({"n_heads": 0}, ValueError, "n_heads must be a positive integer"),
        ({"seq_len": -1}, ValueError, "seq_len"),
        ({"seq_len": 2.5}, TypeError, "seq_len must be an integer"),
        ({"kind": "encoder-decoder"}, KeyError, "kind.*'encoder', 'decoder'"),
        ({"bits": 3}, ValueError, "bits"),
        ({"memory_len": 5}, ValueError, "memory_len"),
    ],
)
def test_bad_input(kwargs, error, match):
    args = {"d_model": 64, "n_heads": 4, "seq_len": 8, **kwargs}
    call = {name: args.pop(name) for name in ("seq_len", "memory_len") if name in args}
    with pytest.raises(error, match=match):
        widgets.transformer_cost(widgets.TransformerConfig(**args), **call)


def test_the_config_is_required_and_d_ff_defaults_to_four_d_model():
    assert widgets.TransformerConfig(64, 4).d_ff == 256
    with pytest.raises(TypeError, match="config must be a TransformerConfig"):
        widgets.transformer_cost({"d_model": 64, "n_heads": 4}, 8)


def test_macs_of_adds_up_breakdown_terms():
    cost = widgets.transformer_cost(widgets.TransformerConfig(768, 12, kind="decoder"), 128)
    assert cost.macs_of(*cost.breakdown) == cost.macs
    assert cost.macs_of("ffn") == cost.breakdown["ffn"]
    assert cost.macs_of() == 0


@pytest.mark.parametrize(
    ("bits", "dtype"), [(32, torch.float32), (16, torch.float16), (8, torch.int8)]
)
def test_memory_terms_are_the_bytes_of_real_tensors(bits, dtype):
    # an independent oracle: torch's own nbytes of the tensors a forward pass would hold
    n_layers, batch, n_heads, d_model, seq_len = 3, 2, 4, 64, 100
    config = widgets.TransformerConfig(d_model, n_heads, n_layers=n_layers, bits=bits)
    cost = widgets.transformer_cost(config, seq_len, batch=batch)
    scores = torch.empty(batch, n_heads, seq_len, seq_len, dtype=dtype, device="meta")
    keys = [
        torch.empty(batch, seq_len, d_model, dtype=dtype, device="meta") for _ in range(n_layers)
    ]
    values = [torch.empty_like(key) for key in keys]
    assert cost.attention_matrix_bytes == scores.nbytes  # one layer's softmax(QK^T)
    assert cost.kv_cache_bytes == sum(t.nbytes for t in keys + values)
    weights = [torch.empty(n, dtype=dtype, device="meta") for n in cost.params_breakdown.values()]
    assert cost.weight_bytes == sum(w.nbytes for w in weights)
