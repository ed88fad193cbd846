"""Model profiler: params, MACs and activation memory of a real torch model, on the meta device.

How it works, in three steps:
1. Parameters, buffers and inputs are swapped for *meta* tensors (shapes without data), so a
   ResNet-50 at batch 1024 costs no memory and no arithmetic.
2. The forward pass runs under a dispatch mode that sees every aten op (`dispatch_counter`):
   matmul-like ops (conv, mm, addmm, bmm, attention) are counted with torch's own FLOP formulas
   (`torch.utils.flop_counter`); MACs = FLOPs / 2. Elementwise ops on meta tensors take shortcuts
   (`meta_shortcuts`), as torch's own meta kernels for them are slow.
3. Every new tensor storage is an activation allocation until it is freed. The running sum of
   live storages (views counted once, weights excluded) gives the peak activation memory and the
   layer during which it is reached. It is the memory of an inference forward
   (`torch.inference_mode()`): max-pool indices, which only training keeps, are not counted.
   tests/test_profiler.py checks the peak against live bytes tracked on real CPU tensors.

A forward that reads tensor values (`.item()`, `nonzero`) cannot run on meta tensors:
`profile(..., device="cpu")` runs the same counting on real tensors, after checking that they fit
(`cpu_forward`). Attention is counted as the textbook computes it: on the meta device torch takes
the "math" path, which stores the seq x seq score matrix (fused CPU/GPU kernels avoid storing
it; the MACs are the same). The result is a `Profile` of `LayerRow`s (`profile_result`); the torch
internals all this needs sit in `torch_internals`.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import torch
from torch import nn

from .cpu_forward import activation_budget, as_real, initialized_on_cpu, math_attention
from .dispatch_counter import ActivationLimitError, Counter
from .fold import fold_batchnorm as fold_conv_bn
from .profile_result import LayerRow, Profile, format_table
from .torch_internals import leaves, tree_map
from .units import BIT_WIDTHS, SAFE_MEMORY_SHARE, bytes_for, format_bytes
from .validate import check_bool, check_choice, check_shape

__all__ = [
    "LayerRow",
    "Profile",
    "eval_mode",
    "format_table",
    "meta_model",
    "meta_profile",
    "profile",
    "profiled_batch",
]

DEVICES = ("meta", "cpu")


def profile(
    model: nn.Module,
    input_size: Sequence[int] | Sequence[Sequence[int]] | None = None,
    inputs: Any = None,
    bits: int = 32,
    activation_bits: int | None = None,
    device: str = "meta",
    fold_batchnorm: bool = False,
) -> Profile:
    """Count params, MACs and activation memory of `model` for one forward pass.

    Give either `input_size` (a shape, or a list of shapes, batch included; float32 inputs) or
    `inputs`, the forward's arguments: a tensor, a tuple of positional arguments, a dict of
    keyword arguments (`{"input_ids": ids}` for a Hugging Face model), or `(args, kwargs)`.
    `bits` sets the weight width and `activation_bits` (default: `bits`) the activation width
    used for bytes; integer tensors (indices) keep their real size. The model runs in eval mode.

    Memory is that of an inference forward: no max-pool indices.

    device="meta" (the default): no weights are allocated and nothing is computed, so any size
    can be profiled; only the inputs' shapes and dtypes are used. device="cpu": real tensors,
    for a model whose forward reads values (`.item()`, `nonzero`, data-dependent shapes): the
    model's own weights (a meta model gets a CPU copy with initialized weights), the given
    inputs (meta inputs and `input_size` get seeded random values). A size whose tensors would
    not fit in memory (`memory_budget.check_fits`) raises MemoryError before the model
    runs. Attention takes the math path on both devices, so both give the same counts.

    fold_batchnorm=True profiles the model as deployed networks run it: each BatchNorm folded
    into the conv before it (`widgets.core.fold`), so their outputs are never alive together.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    check_choice("bits", bits, BIT_WIDTHS)
    activation_bits = bits if activation_bits is None else activation_bits
    check_choice("activation_bits", activation_bits, BIT_WIDTHS)
    check_choice("device", device, DEVICES)
    check_bool("fold_batchnorm", fold_batchnorm)
    if fold_batchnorm:
        model = fold_conv_bn(model)
    args, kwargs = _forward_inputs(input_size, inputs)

    tensors = dict([*model.named_parameters(), *model.named_buffers()])
    on_meta = all(t.device.type == "meta" for t in tensors.values())
    limit = math.inf
    if device == "meta":
        args, kwargs = tree_map(_as_meta, (args, kwargs))
        # A model built on the meta device runs as it is; any other gets meta stand-ins for its
        # weights for this one call (functional_call), which leaves the model untouched.
        weights = (
            tensors
            if on_meta
            else {n: torch.empty_like(t, device="meta") for n, t in tensors.items()}
        )

        def forward() -> Any:
            if on_meta:
                return model(*args, **kwargs)
            return torch.func.functional_call(model, weights, args, kwargs, strict=False)

        attention = contextlib.nullcontext  # on meta, attention takes the math path anyway
    else:
        limit = activation_budget(
            model,
            args,
            kwargs,
            on_meta,
            _meta_peak_bytes(model, args, kwargs),
            _shapes(args, kwargs),
        )
        generator = torch.Generator().manual_seed(0)
        args, kwargs = tree_map(functools.partial(as_real, generator=generator), (args, kwargs))
        model = initialized_on_cpu(model) if on_meta else model
        weights = dict([*model.named_parameters(), *model.named_buffers()])

        def forward() -> Any:
            return model(*args, **kwargs)

        attention = math_attention
    counter = Counter(model, activation_bits)
    # live activations are counted at activation_bits: the limit (fp32 bytes) likewise
    counter.limit_bytes = limit * activation_bits / 32
    for arg in leaves((args, kwargs)):
        counter.track(arg, owner=None)
    counter.weight_storages = {id(t.untyped_storage()) for t in weights.values()}

    gc_was_enabled = gc.isenabled()
    gc.disable()  # a full collection of a big model's objects would take longer than the profile
    try:
        with eval_mode(model), counter, torch.no_grad(), attention():
            forward()
    except (RuntimeError, ValueError, TypeError, IndexError, AssertionError) as error:
        raise _forward_error(error, counter.failed_op, device, args, kwargs) from error
    except ActivationLimitError:
        raise MemoryError(
            f"device='cpu': the activations of the forward on inputs of shape "
            f"{_shapes(args, kwargs)} outgrew {format_bytes(limit)} ({SAFE_MEMORY_SHARE:.0%} of "
            "the memory available, less the weights); profile a smaller size, or on the meta "
            "device (the default), which allocates nothing"
        ) from None
    finally:
        if gc_was_enabled:
            gc.enable()
        counter.close()

    params = sum(p.numel() for p in model.parameters())
    layers = counter.rows(bits)
    return Profile(
        params=params,
        macs=sum(row.macs for row in layers),
        bits=bits,
        activation_bits=activation_bits,
        weight_bytes=bytes_for(params, bits),
        activation_bytes=sum(row.activation_bytes for row in layers),
        peak_activation_bytes=counter.peak_bytes,
        peak_layer=counter.peak_layer,
        layers=tuple(layers),
        batchnorm_folded=fold_batchnorm,
        integer_bytes=counter.integer_bytes,
    )


@contextmanager
def eval_mode(model_or_fn: Callable[..., Any]) -> Iterator[None]:
    """Eval mode for a module (dropout off, batch-norm statistics frozen), restored after;
    nothing for a plain function."""
    modules = list(model_or_fn.modules()) if isinstance(model_or_fn, nn.Module) else []
    was_training = [module.training for module in modules]
    if modules:
        model_or_fn.eval()
    try:
        yield
    finally:
        for module, training in zip(modules, was_training, strict=True):
            module.training = training


@functools.cache
def meta_model(build: str | Callable[[], nn.Module]) -> nn.Module:
    """A model on the meta device (shapes, no weights), built once: a torchvision model name
    (built with weights=None) or a function that builds the model."""
    with torch.device("meta"):
        if callable(build):
            return build()
        import torchvision  # here, not at the top: only callers that name a model pay for it

        return torchvision.models.get_model(build, weights=None)


def meta_profile(
    build: str | Callable[[], nn.Module],
    input_size: tuple[int, ...],
    bits: int = 32,
    activation_bits: int | None = None,
    fold_batchnorm: bool = False,
) -> Profile:
    """profile() of `meta_model(build)` (a torchvision name or a builder), fast when repeated:
    profiles are cached, an even batch of 4 or more scales the batch-2 profile, and other bit
    widths scale the 32-bit profile when it is exact (Profile.at_bits). fold_batchnorm as for
    profile()."""
    activation_bits = bits if activation_bits is None else activation_bits  # one cache entry
    check_bool("fold_batchnorm", fold_batchnorm)
    batch, *sample = input_size
    run_batch = profiled_batch(batch)
    prof = _cached_profile(build, (run_batch, *sample), bits, activation_bits, fold_batchnorm)
    return prof if run_batch == batch else prof.scale_batch(batch // run_batch)


def profiled_batch(batch: int) -> int:
    """The batch meta_profile runs the model at for `batch`: 2 for an even batch of 4 or more
    (its profile is then scaled), else `batch` itself."""
    return 2 if isinstance(batch, int) and batch > 2 and batch % 2 == 0 else batch


@functools.lru_cache(maxsize=128)
def _cached_profile(
    build: str | Callable[[], nn.Module],
    input_size: tuple[int, ...],
    bits: int,
    activation_bits: int,
    fold_batchnorm: bool,
) -> Profile:
    if (bits, activation_bits) != (32, 32):
        full = _cached_profile(build, input_size, 32, 32, fold_batchnorm)
        if not full.integer_bytes:  # every byte is then a count times bits / 8
            return full.at_bits(bits, activation_bits)
    if not fold_batchnorm:
        return profile(meta_model(build), input_size, bits=bits, activation_bits=activation_bits)
    # the folded model is built once per build; profile() would fold again at every call
    prof = profile(
        _folded_meta_model(build), input_size, bits=bits, activation_bits=activation_bits
    )
    return replace(prof, batchnorm_folded=True)


@functools.cache
def _folded_meta_model(build: str | Callable[[], nn.Module]) -> nn.Module:
    return fold_conv_bn(meta_model(build))


def _forward_inputs(input_size: Any, inputs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The forward's positional and keyword arguments: `inputs` as given, or meta tensors of the
    shapes in `input_size`."""
    if (input_size is None) == (inputs is None):
        raise ValueError("give exactly one of input_size (a shape like (1, 3, 224, 224)) or inputs")
    if input_size is not None:
        many = input_size and isinstance(input_size[0], (tuple, list))
        shapes = input_size if many else [input_size]
        return tuple(torch.empty(check_shape("input_size", s), device="meta") for s in shapes), {}
    if isinstance(inputs, torch.Tensor):
        return (inputs,), {}
    if isinstance(inputs, Mapping):  # a dict, or a Hugging Face tokenizer's BatchEncoding
        return (), _keywords(inputs)
    if isinstance(inputs, tuple):
        if (
            len(inputs) == 2
            and isinstance(inputs[0], (tuple, list))
            and isinstance(inputs[1], Mapping)
        ):
            return tuple(inputs[0]), _keywords(inputs[1])
        return inputs, {}
    raise TypeError(
        "inputs must be a tensor, a tuple of positional arguments, a dict of keyword arguments "
        f"or a tuple (args, kwargs) of both, got {type(inputs).__name__}"
    )


def _keywords(mapping: Mapping) -> dict[str, Any]:
    if not all(isinstance(key, str) for key in mapping):
        raise TypeError(
            f"inputs as a dict must map argument names (strings) to values, got keys {list(mapping)}"
        )
    return dict(mapping)


def _as_meta(value: Any) -> Any:
    """A meta tensor of the same shape and dtype for a tensor; anything else as it is."""
    return torch.empty_like(value, device="meta") if isinstance(value, torch.Tensor) else value


def _shapes(args: tuple, kwargs: dict) -> str:
    """The shapes of the forward's tensors, e.g. "[(1, 5)]" or "{'input_ids': (2, 8)}"."""
    positional = [tuple(a.shape) for a in leaves(args) if isinstance(a, torch.Tensor)]
    named = {k: tuple(v.shape) for k, v in kwargs.items() if isinstance(v, torch.Tensor)}
    if not named:
        return str(positional)
    return f"{positional} and {named}" if positional else str(named)


class _DataDependentError(ValueError):
    """The forward read tensor values, which the meta device does not have."""


def _forward_error(
    error: Exception, failed_op: str | None, device: str, args: tuple, kwargs: dict
) -> ValueError:
    """A ValueError saying on which inputs (and in which op) the forward failed, and, for a
    forward that reads tensor values on the meta device, how to profile it."""
    where = f", in {failed_op}" if failed_op else ""
    # item() and friends (aten._local_scalar_dense) read a value; nonzero, unique and other
    # data-dependent shapes have no meta kernel (NotImplementedError)
    reads_values = failed_op == "aten._local_scalar_dense" or isinstance(error, NotImplementedError)
    if device == "meta" and reads_values:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        return _DataDependentError(
            f"the model's forward failed on inputs of shape {_shapes(args, kwargs)}{where}: "
            f"{first_line}. The forward reads tensor values, which the meta device does not "
            'have (it computes shapes only): profile(..., device="cpu") runs it on real tensors'
        )
    return ValueError(
        f"the model's forward failed on inputs of shape {_shapes(args, kwargs)}{where}: {error}"
    )


def _meta_peak_bytes(model: nn.Module, args: tuple, kwargs: dict) -> float | None:
    """Peak activation bytes (fp32, inputs included) of the forward on the meta device; None if
    the forward reads tensor values, which the meta device does not have."""
    try:
        return profile(model, inputs=(args, kwargs)).peak_activation_bytes
    except _DataDependentError:
        return None
