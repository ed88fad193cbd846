"""Model profiler: params, MACs and activation memory of a real torch model, on the meta device.

How it works, in three steps:
1. Parameters, buffers and inputs are swapped for *meta* tensors (shapes without data), so a
   ResNet-50 at batch 1024 costs no memory and no arithmetic.
2. The forward pass runs under a `TorchDispatchMode` that sees every aten op. Matmul-like ops
   (conv, mm, addmm, bmm, attention) are counted with torch's own FLOP formulas
   (`torch.utils.flop_counter`); MACs = FLOPs / 2.
3. Every new tensor storage is an activation allocation; a finalizer tells when it is freed. The
   running sum of live storages (views counted once, weights excluded) gives the peak activation
   memory and the layer during which it is reached. It is the memory of an inference forward
   (`torch.inference_mode()`): max-pool indices, which only training keeps, are not counted.
   tests/test_profiler.py checks the peak against live bytes tracked on real CPU tensors.

Module hooks attribute each op and allocation to the innermost module being called.
A forward that reads tensor values (`.item()`, `nonzero`) cannot run on meta tensors:
`profile(..., device="cpu")` runs the same counting on real tensors, after checking that they fit.
Attention is counted as the textbook computes it: on the meta device torch takes the "math" path,
which stores the seq x seq score matrix (fused CPU/GPU kernels avoid storing it; the MACs are
the same).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import gc
import math
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map
from torch.utils.flop_counter import flop_registry, sdpa_flop_count

from .fold import fold_batchnorm as fold_conv_bn
from .memory_budget import check_fits
from .units import (
    BIT_WIDTHS,
    SAFE_MEMORY_SHARE,
    bytes_for,
    flops_from_macs,
    format_bytes,
    format_count,
)
from .validate import check_choice, check_int, check_shape

__all__ = [
    "LayerRow",
    "Profile",
    "eval_mode",
    "meta_model",
    "meta_profile",
    "profile",
    "profiled_batch",
]

DEVICES = ("meta", "cpu")


def _sdpa_cpu_flop(query, key, value, *args, out_val=None, **kwargs) -> int:
    """CPU fused attention: QK^T and softmax(.)V, like torch's formula for the CUDA kernels."""
    return sdpa_flop_count(query.shape, key.shape, value.shape)


# FLOP formulas (called like torch's: the op's arguments and out_val) for ops torch's
# flop_registry may lack. They
# are used by the profiler only, never registered into torch's global table: a torch that
# registers the op itself keeps working, and its own formula is then the one used. An op this
# torch does not have is simply left out.
_EXTRA_FLOP_FORMULAS = {
    op: formula
    for name, formula in [("_scaled_dot_product_flash_attention_for_cpu", _sdpa_cpu_flop)]
    if (op := getattr(torch.ops.aten, name, None)) is not None
}


@dataclass(frozen=True)
class LayerRow:
    """One call of one module during the forward pass (a module called twice gives two rows).

    Counts are exact integers; bytes follow the profile's bit widths.
    """

    name: str  # qualified module name, e.g. "layer1.0.conv1" ("" for the model itself)
    kind: str  # module class name, e.g. "Conv2d"
    output_shape: tuple[int, ...]
    params: int  # parameters owned by this module and not by a called sub-module
    macs: int  # multiply-accumulates of matmul/conv/attention ops run directly in this call
    input_elements: int  # elements of the tensors passed to the call
    output_elements: int  # elements of the tensors it returned
    activation_elements: int  # elements of new tensors allocated during the call (views excluded)
    weight_bytes: float  # params * bits / 8
    activation_bytes: float  # activation_elements * activation_bits / 8
    live_activation_bytes: float  # activation memory alive when the call returned

    @property
    def flops(self) -> int:
        return flops_from_macs(self.macs)


@dataclass(frozen=True)
class Profile:
    """What `profile()` measured. MACs count multiply-accumulates; flops = 2 * macs."""

    params: int
    macs: int
    bits: int
    activation_bits: int
    weight_bytes: float
    activation_bytes: float  # all activation tensors allocated during the forward pass
    peak_activation_bytes: float  # max of live activation memory (inputs included, weights not)
    peak_layer: str  # name of the row during which the peak was reached
    layers: tuple[LayerRow, ...] = ()  # a tuple: profiles are cached and shared
    batchnorm_folded: bool = False  # each BatchNorm folded into the conv before it

    @property
    def flops(self) -> int:
        return flops_from_macs(self.macs)

    def scale_batch(self, factor: int) -> Profile:
        """This profile for a batch `factor` times larger, without running the model again.

        MACs and activation bytes grow `factor` times, weights do not; output shapes are taken
        to be batch-first. Exact when the samples of a batch do not interact (eval mode: no
        batch statistics) and the model runs the same ops at both sizes. Scale a profile at
        batch 2 or more: at batch 1 some reshapes are free views that copy at larger batches
        (ViT). tests/test_profiler.py checks it for every model the explorers offer.
        """
        factor = check_int("factor", factor, minimum=1)
        layers = [
            replace(
                row,
                output_shape=(row.output_shape[0] * factor, *row.output_shape[1:])
                if row.output_shape
                else (),
                macs=row.macs * factor,
                input_elements=row.input_elements * factor,
                output_elements=row.output_elements * factor,
                activation_elements=row.activation_elements * factor,
                activation_bytes=row.activation_bytes * factor,
                live_activation_bytes=row.live_activation_bytes * factor,
            )
            for row in self.layers
        ]
        return replace(
            self,
            macs=self.macs * factor,
            activation_bytes=self.activation_bytes * factor,
            peak_activation_bytes=self.peak_activation_bytes * factor,
            layers=tuple(layers),
        )

    def __str__(self) -> str:
        return format_table(self)


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
    _check_bool("fold_batchnorm", fold_batchnorm)
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
        limit = _check_fits_in_memory(model, args, kwargs, on_meta)
        generator = torch.Generator().manual_seed(0)
        args, kwargs = tree_map(functools.partial(_as_real, generator=generator), (args, kwargs))
        model = _initialized_on_cpu(model) if on_meta else model
        weights = dict([*model.named_parameters(), *model.named_buffers()])

        def forward() -> Any:
            return model(*args, **kwargs)

        attention = _math_attention
    counter = _Counter(model, activation_bits)
    # live activations are counted at activation_bits: the limit (fp32 bytes) likewise
    counter.limit_bytes = limit * activation_bits / 32
    for arg in tree_flatten((args, kwargs))[0]:
        counter.track(arg, owner=None)
    counter.weight_storages = {id(t.untyped_storage()) for t in weights.values()}

    gc_was_enabled = gc.isenabled()
    gc.disable()  # a full collection of a big model's objects would take longer than the profile
    try:
        with eval_mode(model), counter, torch.no_grad(), attention():
            forward()
    except (RuntimeError, ValueError, TypeError, IndexError, AssertionError) as error:
        raise _forward_error(error, counter.failed_op, device, args, kwargs) from error
    except _ActivationLimitError:
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
    profiles are cached, and an even batch of 4 or more scales the batch-2 profile.
    fold_batchnorm as for profile()."""
    activation_bits = bits if activation_bits is None else activation_bits  # one cache entry
    _check_bool("fold_batchnorm", fold_batchnorm)
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


def _check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")


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


def _as_real(value: Any, generator: torch.Generator) -> Any:
    """A CPU tensor with values for a meta tensor (floats: seeded standard normal; integers
    and booleans: zeros); anything else as it is."""
    if not isinstance(value, torch.Tensor) or value.device.type != "meta":
        return value
    if value.is_floating_point() or value.is_complex():
        return torch.randn(value.shape, dtype=value.dtype, generator=generator)
    return torch.zeros(value.shape, dtype=value.dtype)


def _shapes(args: tuple, kwargs: dict) -> str:
    """The shapes of the forward's tensors, e.g. "[(1, 5)]" or "{'input_ids': (2, 8)}"."""
    positional = [tuple(a.shape) for a in tree_flatten(args)[0] if isinstance(a, torch.Tensor)]
    named = {k: tuple(v.shape) for k, v in kwargs.items() if isinstance(v, torch.Tensor)}
    if not named:
        return str(positional)
    return f"{positional} and {named}" if positional else str(named)


class _DataDependentError(ValueError):
    """The forward read tensor values, which the meta device does not have."""


class _ActivationLimitError(MemoryError):
    """The live activations of a CPU forward outgrew the memory set aside for them."""


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


def _check_fits_in_memory(model: nn.Module, args: tuple, kwargs: dict, on_meta: bool) -> float:
    """Bytes the activations of a CPU forward may take; MemoryError, before anything is
    allocated, if the weights, inputs and peak activations (found on the meta device, when the
    forward does not read values) would not fit in the memory budget (`memory_budget.check_fits`)."""
    tensors = [*model.parameters(), *model.buffers()]
    weight_bytes = sum(t.nbytes for t in tensors) if on_meta else 0  # a meta model's are new
    values = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)]
    activation_bytes = sum(t.nbytes for t in values if t.device.type == "meta")
    # peak activations (fp32, inputs included) as the meta device finds them, unless the forward
    # reads values: then its activations are watched while it runs
    with contextlib.suppress(_DataDependentError):
        activation_bytes = profile(model, inputs=(args, kwargs)).peak_activation_bytes
    budget = check_fits(
        weight_bytes + activation_bytes,
        f"device='cpu' on inputs of shape {_shapes(args, kwargs)}",
        detail=f" (weights {format_bytes(weight_bytes)}, activations "
        f"{format_bytes(activation_bytes)})",
        advice="; profile a smaller size, or on the meta device (the default), which allocates "
        "nothing",
    )
    return budget - weight_bytes


def _initialized_on_cpu(model: nn.Module) -> nn.Module:
    """A CPU copy of a meta model with weights initialized as at construction: each module's
    reset_parameters(); a parameter no module resets gets N(0, 0.02) values. A buffer no module
    resets (a constant computed at construction, e.g. rotary frequencies) cannot be recovered
    from a meta model: ValueError."""
    cpu = copy.deepcopy(model).to_empty(device="cpu")
    tensors = dict([*cpu.named_parameters(), *cpu.named_buffers()])
    with torch.no_grad():
        for tensor in tensors.values():
            tensor.fill_(_unset_value(tensor.dtype))
        for module in cpu.modules():
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()
        buffers = [name for name, b in cpu.named_buffers() if _is_unset(b)]
        if buffers:
            raise ValueError(
                f"device='cpu' needs the values of the buffers {buffers}, which a model on the "
                "meta device does not have and no reset_parameters() sets: build the model on "
                "the CPU (or load its weights) and profile that"
            )
        for parameter in cpu.parameters():
            if _is_unset(parameter):
                nn.init.normal_(parameter, std=0.02)
    return cpu


def _unset_value(dtype: torch.dtype) -> float | int | bool:
    """A value that marks a tensor no initializer has written yet (booleans cannot be marked)."""
    if dtype.is_floating_point or dtype.is_complex:
        return math.nan
    return False if dtype == torch.bool else torch.iinfo(dtype).min


def _is_unset(tensor: torch.Tensor) -> bool:
    if tensor.numel() == 0 or tensor.dtype == torch.bool:
        return False
    unset = _unset_value(tensor.dtype)
    marked = tensor.isnan() if isinstance(unset, float) else tensor == unset
    return bool(marked.all())


@contextmanager
def _math_attention() -> Iterator[None]:
    """Attention as the meta device computes it, also on CPU tensors: torch's math path for
    scaled_dot_product_attention (it stores the scores) and no fused MultiheadAttention."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH):
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)


@dataclass
class _Call:
    """A module call being recorded; becomes a LayerRow."""

    name: str
    module: nn.Module
    input_elements: int
    macs: int = 0
    activation_bytes: float = 0.0
    output_shape: tuple[int, ...] = ()
    output_elements: int = 0
    live_bytes: float = 0.0


class _Counter(TorchDispatchMode):
    """Counts MACs per op and tracks live activation storages during one forward pass."""

    def __init__(self, model: nn.Module, activation_bits: int):
        super().__init__()
        self.names = {id(m): name for name, m in model.named_modules(remove_duplicate=False)}
        self.model = model
        self.bytes_per_float = bytes_for(1, activation_bits)
        self.calls: list[_Call] = []
        self.stack: list[_Call] = []
        self.weight_storages: set[int] = set()
        self.live: dict[int, float] = {}  # storage id -> bytes, for storages alive now
        self.live_bytes = 0.0
        self.peak_bytes = 0.0
        self.peak_layer = ""
        self.failed_op: str | None = None  # the aten op that raised, if the forward failed
        self.limit_bytes = math.inf  # live activation bytes beyond which the forward stops
        self.hooks = [
            nn.modules.module.register_module_forward_pre_hook(self._enter),
            nn.modules.module.register_module_forward_hook(self._exit),
        ]

    def close(self) -> None:
        for hook in self.hooks:
            hook.remove()

    # -- module calls --------------------------------------------------------------------
    def _enter(self, module: nn.Module, args: tuple) -> None:
        name = self.names.get(id(module))
        if name is None:  # a module built during forward, not part of the model
            return
        call = _Call(name, module, _unique_elements(args))
        self.calls.append(call)
        self.stack.append(call)

    def _exit(self, module: nn.Module, args: tuple, output: Any) -> None:
        if not self.stack or self.stack[-1].module is not module:
            return
        call = self.stack.pop()
        tensors = _tensors(output)
        call.output_shape = tuple(tensors[0].shape) if tensors else ()
        call.output_elements = _unique_elements(tensors)
        call.live_bytes = self.live_bytes

    # -- ops -----------------------------------------------------------------------------
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = _fast_meta(func, args, kwargs)
        if out is None:
            try:
                out = func(*args, **kwargs)
            except Exception:
                self.failed_op = str(func._overloadpacket)  # e.g. "aten.nonzero"
                raise
        owner = self.stack[-1] if self.stack else None
        op = func._overloadpacket
        formula = flop_registry.get(op) or _EXTRA_FLOP_FORMULAS.get(op)
        if formula is not None and owner is not None:
            owner.macs += formula(*args, **kwargs, out_val=out) // 2
        allocated = out if isinstance(out, (tuple, list)) else (out,)  # aten: a flat tuple/list
        if func._overloadpacket in _INDICES_ONLY_FOR_TRAINING:
            allocated = allocated[:1]  # the pooled output; inference keeps no indices
        for tensor in allocated:
            self.track(tensor, owner)
        if self.live_bytes > self.limit_bytes:
            raise _ActivationLimitError
        return out

    def track(self, tensor: Any, owner: _Call | None) -> None:
        """Count a tensor's storage as live activation memory until it is freed."""
        if not isinstance(tensor, torch.Tensor):
            return
        storage = tensor.untyped_storage()
        key = id(storage)
        if key in self.live or key in self.weight_storages:
            return  # a view, an in-place result, or a weight
        if tensor.is_floating_point():
            num_bytes = storage.nbytes() // tensor.element_size() * self.bytes_per_float
        else:
            num_bytes = float(storage.nbytes())
        self.live[key] = num_bytes
        self.live_bytes += num_bytes
        weakref.finalize(storage, self._free, key)
        if owner is not None:
            owner.activation_bytes += num_bytes
        if self.live_bytes > self.peak_bytes:
            self.peak_bytes = self.live_bytes
            self.peak_layer = owner.name if owner is not None else ""

    def _free(self, key: int) -> None:
        self.live_bytes -= self.live.pop(key, 0.0)

    def rows(self, bits: int) -> list[LayerRow]:
        """One row per call that owns params, did work or allocated; leaves always kept."""
        params_of = self._params_per_called_module()
        seen: set[int] = set()
        rows = []
        for call in self.calls:
            is_leaf = next(call.module.children(), None) is None
            params = 0 if id(call.module) in seen else params_of.get(id(call.module), 0)
            seen.add(id(call.module))
            if not (is_leaf or params or call.macs or call.activation_bytes):
                continue
            rows.append(
                LayerRow(
                    name=call.name,
                    kind=type(call.module).__name__,
                    output_shape=call.output_shape,
                    params=params,
                    macs=call.macs,
                    input_elements=call.input_elements,
                    output_elements=call.output_elements,
                    activation_elements=round(call.activation_bytes / self.bytes_per_float),
                    weight_bytes=bytes_for(params, bits),
                    activation_bytes=call.activation_bytes,
                    live_activation_bytes=call.live_bytes,
                )
            )
        return rows

    def _params_per_called_module(self) -> dict[int, int]:
        """Each parameter goes to its module, or to the nearest called ancestor if never called."""
        called = {id(call.module) for call in self.calls}
        params_of: dict[int, int] = {}
        seen: set[int] = set()

        def visit(module: nn.Module, owner: int | None) -> None:
            owner = id(module) if id(module) in called else owner
            for p in module.parameters(recurse=False):
                if id(p) not in seen and owner is not None:
                    seen.add(id(p))
                    params_of[owner] = params_of.get(owner, 0) + p.numel()
            for child in module.children():
                visit(child, owner)

        visit(self.model, None)
        return params_of


# Ops whose second output, int64 argmax indices, only the backward pass needs. The meta forward
# records max_pool2d_with_indices; an inference forward (torch.inference_mode(), what the profile
# describes) calls max_pool2d, which returns the pooled output alone: torch's CPU kernel frees
# the indices before it returns, and an int8 runtime never makes them. Counted, they would add
# 8 bytes per output element: for ResNet-18 at int8 a false peak during maxpool (2.63 MiB, not
# the 1.67 MiB reached during bn1).
_INDICES_ONLY_FOR_TRAINING = {torch.ops.aten.max_pool2d_with_indices}

# Shortcuts for the commonest shape-preserving ops on meta tensors. torch's meta kernels for them
# are written in Python (~0.5-1 ms per call), which would dominate a profile; the output here is
# what torch returns on the CPU for contiguous inputs (same shape, dtype, contiguous strides).
# Anything else goes to torch.
# Ops are looked up by name, and one this torch lacks (_safe_softmax is newer than torch 2.4) is
# left out: it then simply goes to torch.
_aten = torch.ops.aten


def _ops(*names: str) -> frozenset:
    """The aten ops (overload packets) of these names that this torch has."""
    return frozenset(op for name in names if (op := getattr(_aten, name, None)) is not None)


_UNARY = _ops("relu", "hardtanh", "gelu", "silu", "sigmoid", "tanh", "hardswish", "hardsigmoid",
              "leaky_relu", "elu", "mish", "softplus", "_safe_softmax")  # fmt: skip
_INPLACE = _ops("relu_", "hardtanh_", "hardswish_", "silu_", "leaky_relu_", "elu_", "sigmoid_",
                "tanh_", "add_", "mul_")  # fmt: skip
_BINARY = _ops("add", "mul", "sub")


def _fast_meta(func, args: tuple, kwargs: dict) -> Any:
    """The output of `func` for meta inputs, or None to let torch compute it."""
    x = args[0] if args else None
    if not isinstance(x, torch.Tensor) or x.device.type != "meta" or not x.is_contiguous():
        return None
    op = func._overloadpacket
    if op in _UNARY:
        return torch.empty_like(x)
    same = (
        len(args) < 2
        or not isinstance(args[1], torch.Tensor)
        or (args[1].shape == x.shape and args[1].dtype == x.dtype)
    )
    if op in _INPLACE and same:
        return x
    if op in _BINARY and same:
        return torch.empty_like(x)
    if op is _aten.native_batch_norm and not args[5]:  # eval mode: no batch statistics
        return torch.empty_like(x), _empty_like_dtype(x, 0), _empty_like_dtype(x, 0)
    if op is _aten.native_layer_norm:
        stats_shape = x.shape[: x.dim() - len(args[1])] + (1,) * len(args[1])
        stats = _empty_like_dtype(x, *stats_shape), _empty_like_dtype(x, *stats_shape)
        return _empty_like_dtype(x, *x.shape), *stats
    if op is _aten.addmm:
        return _empty_like_dtype(args[1], args[1].shape[0], args[2].shape[1])
    return None


def _empty_like_dtype(like: torch.Tensor, *shape: int) -> torch.Tensor:
    """A contiguous meta tensor of `shape` with the dtype of `like`."""
    return torch.empty(shape, dtype=like.dtype, device="meta")


def _tensors(values: Any) -> list[torch.Tensor]:
    """The tensors in a module's arguments or output (a tensor, a flat tuple, or any pytree)."""
    if isinstance(values, torch.Tensor):
        return [values]
    if isinstance(values, (tuple, list)) and all(isinstance(v, torch.Tensor) for v in values):
        return list(values)  # the common cases, without the cost of tree_flatten
    return [t for t in tree_flatten(values)[0] if isinstance(t, torch.Tensor)]


def _unique_elements(values: Any) -> int:
    """Elements of the distinct tensors among `values` (self-attention passes x three times)."""
    tensors = {id(t): t for t in _tensors(values)}
    return sum(t.numel() for t in tensors.values())


def format_table(prof: Profile, max_rows: int = 60) -> str:
    """A readable table: one line per layer (the largest ones if there are many), then totals."""
    rows = prof.layers
    if len(rows) > max_rows:
        keep = set(sorted(range(len(rows)), key=lambda i: -rows[i].macs)[:max_rows])
        rows = [row for i, row in enumerate(rows) if i in keep]
    header = ("layer", "kind", "output shape", "params", "MACs", "weights", "activations")
    lines = [
        (
            row.name or "(model)",
            row.kind,
            "x".join(map(str, row.output_shape)),
            format_count(row.params),
            format_count(row.macs),
            format_bytes(row.weight_bytes),
            format_bytes(row.activation_bytes),
        )
        for row in rows
    ]
    total = (
        "total",
        f"{len(prof.layers)} rows",
        "",
        format_count(prof.params),
        format_count(prof.macs),
        format_bytes(prof.weight_bytes),
        format_bytes(prof.activation_bytes),
    )
    widths = [max(len(line[i]) for line in [header, *lines, total]) for i in range(len(header))]

    def fmt(line: tuple[str, ...]) -> str:
        cells = [line[0].ljust(widths[0]), line[1].ljust(widths[1])]
        cells += [cell.rjust(width) for cell, width in zip(line[2:], widths[2:], strict=True)]
        return "  ".join(cells).rstrip()

    rule = "-" * len(fmt(header))
    shown = "" if len(rows) == len(prof.layers) else f" ({len(rows)} largest by MACs shown)"
    footer = (
        f"peak activation memory {format_bytes(prof.peak_activation_bytes)} "
        f"during {prof.peak_layer or '(model)'}; weights at {prof.bits} bit, "
        f"activations at {prof.activation_bits} bit"
        f"{'; BatchNorm folded into the convs' if prof.batchnorm_folded else ''}"
        f"; MACs = FLOPs / 2{shown}"
    )
    return "\n".join([fmt(header), rule, *map(fmt, lines), rule, fmt(total), footer])
