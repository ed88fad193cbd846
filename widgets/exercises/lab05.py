"""Lab 05 (memory and model size): exercises and predictions, answers computed with widgets.core."""

from __future__ import annotations

from widgets.core.layers import layer_cost
from widgets.core.profiler import Profile, meta_profile
from widgets.core.units import MIB, model_size_bytes

from . import Exercise, Mistake, Prediction, binary_as_si

IMAGE = (1, 3, 224, 224)

# meta_profile: the same cached profiles the lab's MemoryExplorer shows
_mobilenet_profile = meta_profile("mobilenet_v2", IMAGE)
_resnet_profile = meta_profile("resnet50", IMAGE)

# --- model size = params x bit width --------------------------------------------------------

_resnet_4bit_mib = model_size_bytes(_resnet_profile.params, bits=4) / MIB

resnet50_4bit_size = Exercise(
    question=(
        f"ResNet-50 has {_resnet_profile.params:,} parameters. How many MiB do its weights take "
        "at 4 bits per weight?"
    ),
    answer=_resnet_4bit_mib,
    hint="Bytes = parameters x bits / 8; then 1 MiB = 1024 x 1024 bytes.",
    mistakes=[
        Mistake(
            model_size_bytes(_resnet_profile.params, bits=32) / MIB,
            "That is 8 x too much: the size in bits (1 byte = 8 bits), or the size at 32 bits.",
        ),
        Mistake(
            model_size_bytes(_resnet_profile.params, bits=8) / MIB,
            "That is the size at 8 bits: a 4-bit weight is half a byte.",
        ),
        binary_as_si(_resnet_4bit_mib, "Mi"),
    ],
    unit="MiB",
)

# --- where the activation memory peaks ------------------------------------------------------


def _block(layer_name: str) -> int:
    """Index N of the block features.N of MobileNetV2 that holds `layer_name`."""
    return int(layer_name.split(".")[1])


_rows = {row.name: row for row in _mobilenet_profile.layers}
_last_block = max(_block(name) for name in _rows if name.startswith("features."))


def _output_shape(name: str) -> str:
    """'32 x 112 x 112' for a layer of batch-1 MobileNetV2."""
    return " x ".join(map(str, _rows[name].output_shape[1:]))


peak_block = Exercise(
    question=(
        f"MobileNetV2's body is model.features: features[0] is the first conv, features[1] to "
        f"features[{_last_block - 1}] are inverted-residual blocks and features[{_last_block}] "
        "is the last 1x1 conv. During which block N is the activation memory at its peak "
        "(batch 1, 224 x 224)?"
    ),
    answer=_block(_mobilenet_profile.peak_layer),
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
            _last_block,
            f"The last conv has the most channels, but its output {_output_shape(f'features.{_last_block}.0')} "
            "is small: few pixels are left.",
        ),
    ],
    tolerance=0,
)

peak_ratio = Prediction(
    question=(
        f"ResNet-50 has {_resnet_profile.params / _mobilenet_profile.params:.1f} x the "
        "parameters of MobileNetV2. How many times larger is its peak activation memory (batch "
        "1, 224 x 224)?"
    ),
    measured=_resnet_profile.peak_activation_bytes / _mobilenet_profile.peak_activation_bytes,
    explanation=(
        "MobileNetV2 saves weights, not activations: both networks peak early, while the "
        "feature maps are still 112 x 112 or 56 x 56, and there they hold about as many "
        "values. Small weights do not make a small peak."
    ),
    unit="x",
    source="computed",  # by widgets.core: nothing is timed
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
)

RESOLUTION_STEP = 16  # candidate input sizes: 32, 48, 64, ... 224 pixels
_RESOLUTIONS = range(2 * RESOLUTION_STEP, IMAGE[-1] + 1, RESOLUTION_STEP)


def _peak_at(resolution: int, activation_bits: int) -> Profile:
    return meta_profile("mobilenet_v2", (1, 3, resolution, resolution), 32, activation_bits)


def _largest_fitting_resolution(activation_bits: int) -> int:
    """Largest candidate resolution whose peak activation fits in SRAM_BYTES."""
    fitting = RESOLUTION_STEP  # below every candidate
    for resolution in _RESOLUTIONS:  # the peak grows with the resolution: stop at the first miss
        if _peak_at(resolution, activation_bits).peak_activation_bytes > SRAM_BYTES:
            break
        fitting = resolution
    return fitting


_int8_peak_224 = _peak_at(IMAGE[-1], activation_bits=8).peak_activation_bytes
_linear_guess = IMAGE[-1] * SRAM_BYTES / _int8_peak_224  # as if memory grew like the side
_fitting_int8 = _largest_fitting_resolution(activation_bits=8)

sram_resolution = Exercise(
    question=(
        f"The microcontroller has 256 KiB of SRAM for activations. With int8 activations, what is "
        f"the largest input resolution r (a multiple of {RESOLUTION_STEP}; input 1 x 3 x r x r) "
        "at which MobileNetV2's peak activation memory fits?"
    ),
    answer=_fitting_int8,
    hint=(
        "Start from the peak at 224 x 224 with int8 activations. Activation memory grows with "
        "the number of pixels, r x r."
    ),
    mistakes=[
        Mistake(
            _linear_guess // RESOLUTION_STEP * RESOLUTION_STEP,
            "Activation memory grows with the area r x r, not with the side r.",
        ),
        Mistake(
            _largest_fitting_resolution(activation_bits=32),
            "That is for fp32 activations (4 bytes each); int8 takes 1 byte.",
        ),
        Mistake(
            _fitting_int8 + RESOLUTION_STEP,
            "At that size the peak is just over 256 KiB: all of it must fit.",
        ),
    ],
    unit="pixels",
    tolerance=0,
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
