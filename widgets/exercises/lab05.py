"""Lab 05 (memory and model size): exercises and predictions, answers computed with widgets.core."""

from __future__ import annotations

import functools

from widgets.core.layers import layer_cost
from widgets.core.profiler import Profile, meta_profile
from widgets.core.units import MIB, model_size_bytes

from . import Exercise, Lab, Mistake, Prediction, binary_as_si

IMAGE = (1, 3, 224, 224)


@functools.cache
def _profile(model: str) -> Profile:
    """meta_profile of a torchvision model on one 224 x 224 image (the same cached profile the
    lab's MemoryExplorer shows), run on first use."""
    return meta_profile(model, IMAGE)


# --- model size = params x bit width --------------------------------------------------------


def _resnet50_4bit_size() -> Exercise:
    resnet = _profile("resnet50")
    mib_at_4_bits = model_size_bytes(resnet.params, bits=4) / MIB
    return Exercise(
        question=(
            f"ResNet-50 has {resnet.params:,} parameters. How many MiB do its weights take "
            "at 4 bits per weight?"
        ),
        answer=mib_at_4_bits,
        hint="Bytes = parameters x bits / 8; then 1 MiB = 1024 x 1024 bytes.",
        mistakes=[
            Mistake(
                model_size_bytes(resnet.params, bits=32) / MIB,
                "That is 8 x too much: the size in bits (1 byte = 8 bits), or the size at 32 bits.",
            ),
            Mistake(
                model_size_bytes(resnet.params, bits=8) / MIB,
                "That is the size at 8 bits: a 4-bit weight is half a byte.",
            ),
            binary_as_si(mib_at_4_bits, "Mi"),
        ],
        unit="MiB",
        solution=[
            f"Bytes = parameters x bits / 8 = {resnet.params:,} x 4 / 8 = "
            f"{model_size_bytes(resnet.params, bits=4):,.0f}.",
            f"MiB = bytes / (1024 x 1024) = {mib_at_4_bits:.4g}.",
        ],
    )


# --- where the activation memory peaks ------------------------------------------------------


def _block(layer_name: str) -> int:
    """Index N of the block features.N of MobileNetV2 that holds `layer_name`."""
    return int(layer_name.split(".")[1])


def _output_shape(name: str) -> str:
    """'32 x 112 x 112' for a layer of batch-1 MobileNetV2."""
    row = next(row for row in _profile("mobilenet_v2").layers if row.name == name)
    return " x ".join(map(str, row.output_shape[1:]))


def _peak_block() -> Exercise:
    mobilenet = _profile("mobilenet_v2")
    last_block = max(
        _block(row.name) for row in mobilenet.layers if row.name.startswith("features.")
    )
    peak_row = next(row for row in mobilenet.layers if row.name == mobilenet.peak_layer)
    return Exercise(
        question=(
            f"MobileNetV2's body is model.features: features[0] is the first conv, features[1] to "
            f"features[{last_block - 1}] are inverted-residual blocks and features[{last_block}] "
            "is the last 1x1 conv. During which block N is the activation memory at its peak "
            "(batch 1, 224 x 224)?"
        ),
        answer=_block(mobilenet.peak_layer),
        hint=(
            "Look for the largest tensors: most channels times the most pixels. A block that "
            "expands its channels at high resolution keeps its input alive while writing them."
        ),
        mistakes=[
            Mistake(
                0,
                f"features[0] writes {_output_shape('features.0.0')} values; a later block expands "
                "to more channels at the same resolution.",
            ),
            Mistake(
                last_block,
                f"The last conv has the most channels, but its output {_output_shape(f'features.{last_block}.0')} "
                "is small: few pixels are left.",
            ),
        ],
        tolerance=0,
        solution=[
            "widgets.profile follows every activation tensor from its allocation to its release; "
            "the live activation memory is largest during layer "
            f"{mobilenet.peak_layer} ({peak_row.kind}, output {_output_shape(mobilenet.peak_layer)}): "
            f"{mobilenet.peak_activation_bytes / MIB:.3g} MiB alive.",
            f"That layer belongs to block features[{_block(mobilenet.peak_layer)}].",
        ],
    )


def _peak_ratio() -> Prediction:
    mobilenet, resnet = _profile("mobilenet_v2"), _profile("resnet50")
    return Prediction(
        question=(
            f"ResNet-50 has {resnet.params / mobilenet.params:.1f} x the "
            "parameters of MobileNetV2. How many times larger is its peak activation memory (batch "
            "1, 224 x 224)?"
        ),
        measured=resnet.peak_activation_bytes / mobilenet.peak_activation_bytes,
        explanation=(
            "MobileNetV2 saves weights, not activations: both networks peak early, while the "
            "feature maps are still 112 x 112 or 56 x 56, and there they hold about as many "
            "values. Small weights do not make a small peak."
        ),
        unit="x",
        source="computed",  # by widgets.core: nothing is timed
        solution=[
            f"ResNet-50's peak: {resnet.peak_activation_bytes / MIB:.3g} MiB (during "
            f"{resnet.peak_layer}).",
            f"MobileNetV2's peak: {mobilenet.peak_activation_bytes / MIB:.3g} MiB (during "
            f"{mobilenet.peak_layer}).",
            f"Ratio: {resnet.peak_activation_bytes:,.0f} / {mobilenet.peak_activation_bytes:,.0f} "
            f"bytes = {resnet.peak_activation_bytes / mobilenet.peak_activation_bytes:.3g}.",
        ],
    )


# --- a microcontroller: 1 MiB of flash for weights, 256 KiB of SRAM for activations ---------

FLASH_BYTES = 1 * MIB
SRAM_BYTES = 256 * 2**10
FLASH_BITS = 4

_max_params = FLASH_BYTES / model_size_bytes(1, bits=FLASH_BITS)

flash_params = Exercise(
    question=(
        f"A microcontroller stores the weights in 1 MiB of flash. How many parameters fit at "
        f"most at {FLASH_BITS} bits per weight?"
    ),
    answer=_max_params,
    hint=f"1 MiB = 1024 x 1024 bytes, and a {FLASH_BITS}-bit weight takes {FLASH_BITS}/8 byte.",
    mistakes=[
        Mistake(_max_params * (1000 / 1024) ** 2, "1 MiB is 1024 x 1024 bytes, not 10^6."),
        Mistake(
            FLASH_BYTES / FLASH_BITS, f"That divides bytes by bits: {FLASH_BITS} bits = 1/2 byte."
        ),
        Mistake(FLASH_BYTES, "That is one byte (8 bits) per weight."),
    ],
    unit="parameters",
    solution=[
        f"1 MiB = 1024 x 1024 = {FLASH_BYTES:,} bytes.",
        f"A {FLASH_BITS}-bit weight takes {FLASH_BITS} / 8 = {model_size_bytes(1, bits=FLASH_BITS):g} "
        "byte.",
        f"{FLASH_BYTES:,} / {model_size_bytes(1, bits=FLASH_BITS):g} = {_max_params:,.0f} parameters.",
    ],
)

RESOLUTION_STEP = 16  # candidate input sizes: 32, 48, 64, ... 224 pixels
_RESOLUTIONS = range(2 * RESOLUTION_STEP, IMAGE[-1] + 1, RESOLUTION_STEP)


def _peak_at(resolution: int, activation_bits: int, folded: bool = True) -> Profile:
    """MobileNetV2's profile at r x r; folded: each BatchNorm folded into its conv, as deployed."""
    return meta_profile(
        "mobilenet_v2", (1, 3, resolution, resolution), 32, activation_bits, fold_batchnorm=folded
    )


def _largest_fitting_resolution(activation_bits: int, folded: bool = True) -> int:
    """Largest candidate resolution whose peak activation fits in SRAM_BYTES."""
    fitting = RESOLUTION_STEP  # below every candidate
    for resolution in _RESOLUTIONS:  # the peak grows with the resolution: stop at the first miss
        if _peak_at(resolution, activation_bits, folded).peak_activation_bytes > SRAM_BYTES:
            break
        fitting = resolution
    return fitting


def _peak_step(resolution: int) -> str:
    peak = _peak_at(resolution, activation_bits=8).peak_activation_bytes
    verdict = "fits in" if peak <= SRAM_BYTES else "exceeds"
    return f"At {resolution} x {resolution}: peak {peak:,.0f} bytes, {verdict} {SRAM_BYTES:,}."


def _sram_resolution() -> Exercise:
    int8_peak_224 = _peak_at(IMAGE[-1], activation_bits=8).peak_activation_bytes  # folded
    linear_guess = IMAGE[-1] * SRAM_BYTES / int8_peak_224  # as if memory grew like the side
    fitting_int8 = _largest_fitting_resolution(activation_bits=8)
    return Exercise(
        question=(
            f"The microcontroller has 256 KiB of SRAM for activations. With int8 activations and "
            "each BatchNorm folded into its conv (as deployed networks run), what is the largest "
            f"input resolution r (a multiple of {RESOLUTION_STEP}; input 1 x 3 x r x r) at which "
            "MobileNetV2's peak activation memory fits?"
        ),
        answer=fitting_int8,
        hint=(
            "Start from the peak at 224 x 224 with int8 activations. Activation memory grows with "
            "the number of pixels, r x r."
        ),
        mistakes=[
            Mistake(
                linear_guess // RESOLUTION_STEP * RESOLUTION_STEP,
                "Activation memory grows with the area r x r, not with the side r.",
            ),
            Mistake(
                _largest_fitting_resolution(activation_bits=32),
                "That is for fp32 activations (4 bytes each); int8 takes 1 byte.",
            ),
            Mistake(
                _largest_fitting_resolution(activation_bits=8, folded=False),
                "That is the network as torch's eager mode runs it, each BatchNorm's output alive "
                "beside its conv's: fold the batch norms (fold_batchnorm=True), as deployed "
                "networks do.",
            ),
            Mistake(
                fitting_int8 + RESOLUTION_STEP,
                "At that size the peak is just over 256 KiB: all of it must fit.",
            ),
        ],
        unit="pixels",
        tolerance=0,
        solution=[
            "Folded, at 224 x 224 with int8 activations the peak is "
            f"{int8_peak_224:,.0f} bytes; 256 KiB = "
            f"{SRAM_BYTES:,} bytes: the peak is {int8_peak_224 / SRAM_BYTES:.3g} x the budget.",
            "The peak grows with the area r x r, so r can be about 224 / sqrt("
            f"{int8_peak_224 / SRAM_BYTES:.3g}) = {IMAGE[-1] * (SRAM_BYTES / int8_peak_224) ** 0.5:.3g}; "
            f"check the multiples of {RESOLUTION_STEP} near it with "
            "widgets.profile(..., fold_batchnorm=True):",
            _peak_step(fitting_int8),
            _peak_step(fitting_int8 + RESOLUTION_STEP),
            f"So r = {fitting_int8}.",
        ],
    )


# --- the original AlexNet: two GPUs, so grouped convolutions --------------------------------

_ALEXNET_CONV2 = {"in_channels": 96, "out_channels": 256, "kernel_size": 5, "padding": 2}
_conv2 = layer_cost("conv2d", input_shape=(1, 96, 27, 27), groups=2, **_ALEXNET_CONV2)
_conv2_one_gpu = layer_cost("conv2d", input_shape=(1, 96, 27, 27), groups=1, **_ALEXNET_CONV2)

alexnet_conv2_macs = Exercise(
    question=(
        "The original AlexNet's second convolution maps 96 channels of 27 x 27 to 256 channels "
        "(5 x 5 kernels, padding 2). It ran split over two GPUs: each GPU's 128 filters see only "
        "the 48 channels on that GPU, i.e. nn.Conv2d(96, 256, 5, padding=2, groups=2). How many "
        "MACs does it need for one image?"
    ),
    answer=_conv2.macs,
    hint=(
        "MACs = C_out x H_out x W_out x (C_in / groups) x k_h x k_w: each output value is a dot "
        "product over the channels its filter sees. Padding 2 keeps 27 x 27."
    ),
    mistakes=[
        Mistake(
            _conv2_one_gpu.macs,
            "That is twice the answer: either every filter sees all 96 channels (groups=1), "
            "or you gave FLOPs (2 per MAC). With groups=2 each filter sees 48.",
        ),
        Mistake(_conv2.macs / 2, "That is one GPU's half: both halves run for every image."),
    ],
    unit="MACs",
    tolerance=0,
)


# Exercises that need a profile are built on first use (PEP 562), so importing this module
# profiles no model; each is built once.
_BUILT_ON_FIRST_USE = {
    "resnet50_4bit_size": _resnet50_4bit_size,
    "peak_block": _peak_block,
    "peak_ratio": _peak_ratio,
    "sram_resolution": _sram_resolution,
}

lab = Lab(globals(), built_on_first_use=_BUILT_ON_FIRST_USE)
progress, __getattr__, __dir__ = lab.progress, lab.module_getattr, lab.module_dir
