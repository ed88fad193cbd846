"""profile() on models learners bring: Hugging Face transformers and timm, built from tiny
configs (nothing downloaded: conftest sets HF_HUB_OFFLINE), called the way each is called.

Params are the unique parameters (tied weights once); MACs are what torch's FlopCounterMode
counts on real tensors with the math attention path (the one the profiler counts).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import timm
import torch
import transformers
from helpers import torch_macs
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel

import widgets

VOCAB, TOKENS = 100, 12
_ids = torch.randint(0, VOCAB, (2, TOKENS), generator=torch.Generator().manual_seed(0))
_image = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
# ids within the tiny vocabulary; no padding token: with one (and no attention mask)
# transformers reads the ids to warn about padding, which the meta device cannot
_tokens = dict(bos_token_id=0, eos_token_id=1, pad_token_id=None)


def gpt2() -> nn.Module:
    config = transformers.GPT2Config(
        vocab_size=VOCAB, n_positions=64, n_embd=32, n_layer=2, n_head=4, **_tokens
    )
    return transformers.GPT2LMHeadModel(config)  # its head is tied to the token embedding


def bert() -> nn.Module:
    config = transformers.BertConfig(
        vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=64, max_position_embeddings=64, pad_token_id=None,
    )  # fmt: skip
    return transformers.BertForMaskedLM(config)  # its decoder is tied to the embedding


def llama() -> nn.Module:
    config = transformers.LlamaConfig(
        vocab_size=VOCAB,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        **_tokens,
    )  # fmt: skip  (grouped-query attention: 4 query heads share 2 key/value heads; RMSNorm)
    return transformers.LlamaForCausalLM(config)


def t5() -> nn.Module:
    config = transformers.T5Config(
        vocab_size=VOCAB, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2,
        num_heads=4, decoder_start_token_id=0, **_tokens,
    )  # fmt: skip
    return transformers.T5ForConditionalGeneration(config)


def vit() -> nn.Module:
    return timm.create_model(
        "vit_tiny_patch16_224", pretrained=False, img_size=32, patch_size=8, embed_dim=32,
        depth=2, num_heads=4, num_classes=10,
    )  # fmt: skip


def convnext() -> nn.Module:
    return timm.create_model(
        "convnext_atto", pretrained=False, depths=(1, 1, 1, 1), dims=(8, 16, 32, 64), num_classes=10
    )


def efficientnet() -> nn.Module:
    return timm.create_model("efficientnet_b0", pretrained=False, num_classes=10)


# name -> (builder, the forward's positional arguments, its keyword arguments)
MODELS: dict[str, tuple[Callable[[], nn.Module], tuple, dict]] = {
    # no attention mask: transformers reads a mask's values (see the last test)
    "gpt2": (gpt2, (), {"input_ids": _ids}),
    "bert": (
        bert,
        (),
        {"input_ids": _ids, "token_type_ids": 0 * _ids},
    ),
    "llama": (llama, (), {"input_ids": _ids}),
    "t5": (t5, (_ids,), {"decoder_input_ids": _ids[:, :5]}),
    "vit": (vit, (_image,), {}),
    "convnext": (convnext, (_image,), {}),
    "efficientnet": (efficientnet, (_image,), {}),
}


def unique_params(model: nn.Module) -> int:
    """Parameters counted once per storage, however many modules share them."""
    storages = {
        p.untyped_storage().data_ptr(): p.numel()
        for _, p in model.named_parameters(remove_duplicate=False)
    }
    return sum(storages.values())


@pytest.fixture(scope="module", params=MODELS)
def case(request):
    build, args, kwargs = MODELS[request.param]
    torch.manual_seed(0)
    model = build().eval()
    with sdpa_kernel(SDPBackend.MATH), torch.no_grad():
        macs = torch_macs(model, *args, **kwargs)
    return request.param, model, args, kwargs, macs


def test_params_and_macs_equal_torch(case):
    _, model, args, kwargs, macs = case
    inputs = (args, kwargs) if args and kwargs else kwargs or args
    prof = widgets.profile(model, inputs=inputs)
    assert prof.params == unique_params(model)
    assert sum(row.params for row in prof.layers) == prof.params
    assert prof.macs == macs > 0


@pytest.mark.parametrize("name", ["gpt2", "bert", "t5"])
def test_tied_weights_count_once(name):
    model = MODELS[name][0]()
    every_use = sum(p.numel() for _, p in model.named_parameters(remove_duplicate=False))
    assert widgets.profile(model, inputs=MODELS[name][2] | {"input_ids": _ids}).params < every_use


def test_real_tensors_give_the_meta_count(case):
    _, model, args, kwargs, macs = case
    prof = widgets.profile(model, inputs=(args, kwargs), device="cpu")
    assert prof.macs == macs
    assert prof.params == unique_params(model)


def test_keywords_only_and_args_with_kwargs_agree():
    model = t5()
    by_keyword = widgets.profile(
        model, inputs={"input_ids": _ids, "decoder_input_ids": _ids[:, :5]}
    )
    mixed = widgets.profile(model, inputs=((_ids,), {"decoder_input_ids": _ids[:, :5]}))
    for field in ("params", "macs", "activation_bytes", "peak_activation_bytes"):
        assert getattr(by_keyword, field) == getattr(mixed, field)


def test_a_forward_that_reads_the_mask_runs_on_the_cpu():
    """Given an attention mask (as a tokenizer returns it), transformers reads its values to
    build the attention mask: the meta device cannot, the error names the op and the way out,
    and device="cpu" profiles it."""
    model = gpt2().eval()
    tokenized = {"input_ids": _ids, "attention_mask": torch.ones_like(_ids)}
    with pytest.raises(ValueError, match=r"in aten\._local_scalar_dense: .*device=\"cpu\""):
        widgets.profile(model, inputs=tokenized)
    with sdpa_kernel(SDPBackend.MATH), torch.no_grad():
        macs = torch_macs(model, **tokenized)
    assert widgets.profile(model, inputs=tokenized, device="cpu").macs == macs
