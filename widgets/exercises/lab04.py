"""Lab 04 (efficiency metrics): exercises and predictions, answers computed with widgets.core."""

from __future__ import annotations

import functools

from torch import nn

from widgets.core.energy import estimate_energy, mac_energy_pj, pj_per_byte, table_pj
from widgets.core.latency import summarize
from widgets.core.layers import layer_cost
from widgets.core.profiler import meta_profile
from widgets.core.roofline import layer_traffic

from . import Exercise, Mistake, Prediction, macs_for_flops

# --- MACs vs FLOPs ------------------------------------------------------------------------

FFN_TOKENS, FFN_IN, FFN_OUT = 128, 768, 3072  # the first FFN layer of BERT-base, 128 tokens

_ffn = layer_cost(
    "linear", input_shape=(1, FFN_TOKENS, FFN_IN), in_features=FFN_IN, out_features=FFN_OUT
)
_ffn_one_token = layer_cost(
    "linear", input_shape=(1, FFN_IN), in_features=FFN_IN, out_features=FFN_OUT
)

ffn_flops = Exercise(
    question=(
        f"nn.Linear({FFN_IN}, {FFN_OUT}) runs on {FFN_TOKENS} tokens (input shape "
        f"(1, {FFN_TOKENS}, {FFN_IN})). How many FLOPs does torch's FlopCounterMode report?"
    ),
    answer=_ffn.flops,
    hint=(
        f"Each of the {FFN_TOKENS} x {FFN_OUT} outputs is a dot product of length {FFN_IN}: "
        "one multiply-accumulate per term, and FlopCounterMode counts a MAC as 2 FLOPs."
    ),
    mistakes=[
        macs_for_flops(_ffn.flops),
        Mistake(
            _ffn.flops + _ffn.output_elements,
            "FlopCounterMode counts the matrix multiply only: the bias add is not counted.",
        ),
        Mistake(_ffn_one_token.flops, f"That is for one token; the input has {FFN_TOKENS}."),
    ],
    unit="FLOPs",
    tolerance=0,
)

# --- latency vs throughput ----------------------------------------------------------------

SERVED_BATCH, SERVED_LATENCY_S = 32, 0.040

served_throughput = Exercise(
    question=(
        f"A server runs batches of {SERVED_BATCH} images, and one batch takes "
        f"{SERVED_LATENCY_S * 1e3:g} ms. What is its throughput, in images per second?"
    ),
    answer=summarize([SERVED_LATENCY_S], SERVED_LATENCY_S, batch=SERVED_BATCH).throughput,
    hint="Throughput = samples per batch / seconds per batch.",
    mistakes=[
        Mistake(1 / SERVED_LATENCY_S, f"That is batches per second; each holds {SERVED_BATCH}."),
        Mistake(
            SERVED_BATCH / (SERVED_LATENCY_S * 1e3),
            "That is images per millisecond: a second is 1000 ms.",
        ),
    ],
    unit="images/s",
)

_served = summarize([SERVED_LATENCY_S], SERVED_LATENCY_S, batch=SERVED_BATCH)

request_latency_ms = Exercise(
    question=(
        f"The same server: batches of {SERVED_BATCH} images, {SERVED_LATENCY_S * 1e3:g} ms per "
        "batch. Once its batch starts, how many milliseconds does one image wait for its answer?"
    ),
    answer=_served.median_s * 1e3,
    hint="The answers of a batch come out together, when the whole batch is done.",
    mistakes=[
        Mistake(
            _served.seconds_per_sample * 1e3,
            "That is the batch's time divided by its images, 1 / throughput: no image gets its "
            "answer that early. Each waits for the whole batch.",
        ),
        Mistake(_served.median_s, "That is in seconds; give milliseconds."),
    ],
    unit="ms",
)

# --- FLOPs vs FLOP/s ----------------------------------------------------------------------

RESNET_LATENCY_S = 0.050


IMAGE = (1, 3, 224, 224)
_resnet50 = meta_profile("resnet50", IMAGE)

resnet_gflops = Exercise(
    question=(
        f"ResNet-50 does {_resnet50.macs / 1e9:.2f} G MACs per 224 x 224 image. If one image "
        f"takes {RESNET_LATENCY_S * 1e3:g} ms, how many GFLOP/s (1e9 FLOP per second) did the "
        "CPU achieve?"
    ),
    answer=_resnet50.flops / RESNET_LATENCY_S / 1e9,
    hint="FLOP/s is work per time: FLOPs (2 per MAC) divided by seconds.",
    mistakes=[
        Mistake(
            _resnet50.macs / RESNET_LATENCY_S / 1e9,
            "That counts MACs per second: each MAC is 2 FLOPs.",
        ),
        Mistake(
            _resnet50.flops / 1e9, "That is the work (GFLOP), not the speed: divide by the time."
        ),
        Mistake(
            _resnet50.flops / (RESNET_LATENCY_S * 1e3) / 1e9,
            "That divides by milliseconds: 50 ms = 0.05 s.",
        ),
    ],
    unit="GFLOP/s",
)

# --- arithmetic intensity -----------------------------------------------------------------

SQUARE_FEATURES = 1024
LARGE_BATCH = 256


_SQUARE_LINEAR = functools.partial(nn.Linear, SQUARE_FEATURES, SQUARE_FEATURES)


def _linear_intensity(batch: int, bits: int = 32) -> tuple[float, float]:
    """(FLOPs, bytes moved) of nn.Linear(SQUARE_FEATURES, SQUARE_FEATURES) at `batch`."""
    ((row, moved),) = layer_traffic(meta_profile(_SQUARE_LINEAR, (batch, SQUARE_FEATURES), bits))
    return row.flops, moved


_flops_1, _bytes_1 = _linear_intensity(batch=1)
_flops_large, _bytes_large = _linear_intensity(batch=LARGE_BATCH)

linear_intensity = Exercise(
    question=(
        f"What is the arithmetic intensity (FLOP per byte) of nn.Linear({SQUARE_FEATURES}, "
        f"{SQUARE_FEATURES}) on one fp32 sample? Count the bytes that move once: weights, bias, "
        "input and output."
    ),
    answer=_flops_1 / _bytes_1,
    hint="Intensity = FLOPs / bytes; fp32 numbers take 4 bytes, and the weights dominate.",
    mistakes=[
        Mistake(_flops_1 / 2 / _bytes_1, "That counts MACs: intensity counts FLOPs, 2 per MAC."),
        Mistake(_flops_1 / (8 * _bytes_1), "That divides by bits: intensity is FLOP per byte."),
        Mistake(_flops_1 / (_bytes_1 / 4), "That counts numbers, not bytes: fp32 takes 4 bytes."),
    ],
    unit="FLOP/byte",
)

batch_intensity_gain = Prediction(
    question=(
        f"Run the same layer on a batch of {LARGE_BATCH} instead of 1. By what factor does its "
        "arithmetic intensity grow?"
    ),
    measured=(_flops_large / _bytes_large) / (_flops_1 / _bytes_1),
    explanation=(
        f"The FLOPs grow {LARGE_BATCH} x, but the weights are read once per batch and only the "
        "inputs and outputs grow with it, so the intensity grows a bit less. Batching moves a "
        "layer to the right on the roofline, from memory-bound toward compute-bound."
    ),
    unit="x",
    source="computed",  # by widgets.core: nothing is timed
)

# --- energy: memory access vs arithmetic ----------------------------------------------------


_dram_word_pj = table_pj("dram read", 32)

dram_vs_mac = Exercise(
    question=(
        "In Horowitz's 45 nm table (ENERGY_TABLE), how many fp32 multiply-accumulates (one fp32 "
        "multiply and one fp32 add) cost as much energy as reading one 32-bit word from DRAM?"
    ),
    answer=_dram_word_pj / mac_energy_pj(32),
    hint="Divide the energy of the DRAM read by the energy of one MAC; a MAC is two operations.",
    mistakes=[
        Mistake(_dram_word_pj / table_pj("fp mult", 32), "A MAC also has an add: count both."),
        Mistake(_dram_word_pj / table_pj("fp add", 32), "A MAC also has a multiply: count both."),
        Mistake(
            _dram_word_pj / 4 / mac_energy_pj(32),
            "That is the energy of one byte from DRAM; the question reads a 32-bit word.",
        ),
    ],
    unit="MACs",
)

_mobilenet_v2 = meta_profile("mobilenet_v2", IMAGE)
_mobilenet_energy = estimate_energy(_mobilenet_v2, memory="dram")

memory_energy_share = Prediction(
    question=(
        "MobileNetV2 in fp32, with every weight and activation read from (or written to) DRAM "
        "once per inference, each layer on its own (no fused layers): what percentage of the energy of one inference goes to memory "
        "traffic rather than to arithmetic?"
    ),
    measured=100 * _mobilenet_energy.memory_pj / _mobilenet_energy.total_pj,
    explanation=(
        f"Its {_mobilenet_v2.macs / 1e6:.0f} M MACs cost {mac_energy_pj(32):.1f} pJ each, but "
        f"every byte from DRAM costs {pj_per_byte('dram'):.0f} pJ: moving data, not computing, dominates. Keeping data "
        "on chip (SRAM) and using fewer bits are the big levers."
    ),
    unit="%",
    source="computed",  # by widgets.core: nothing is timed
)

# --- OPS: operations per second -----------------------------------------------------------

RATED_TOPS = 4  # an int8 accelerator's rating, tera operations per second

peak_int8_macs = Exercise(
    question=(
        f"An accelerator is rated at {RATED_TOPS} TOPS for int8 (tera operations per second, a "
        "multiply and an add each count as one operation). How many int8 multiply-accumulates "
        "can it do per second, at best?"
    ),
    answer=RATED_TOPS * 1e12 / 2,
    hint="TOPS, like FLOPS, counts operations per second, and one MAC is two operations.",
    mistakes=[
        Mistake(RATED_TOPS * 1e12, "That counts one MAC as one operation: a MAC is two."),
        Mistake(RATED_TOPS * 1e12 * 2, "A MAC is two operations: divide by 2, not multiply."),
        Mistake(RATED_TOPS * 1e9 / 2, "Tera is 10^12, not 10^9 (giga)."),
    ],
    unit="MACs/s",
)

# --- fused layers: conv + batch norm + ReLU, one DRAM round trip ---------------------------

FUSED_CHANNELS, FUSED_SIDE = 64, 56


def _conv_bn_relu() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(FUSED_CHANNELS, FUSED_CHANNELS, 3, padding=1, bias=False),
        nn.BatchNorm2d(FUSED_CHANNELS),
        nn.ReLU(),
    )


_block = meta_profile(_conv_bn_relu, (1, FUSED_CHANNELS, FUSED_SIDE, FUSED_SIDE))
_unfused = estimate_energy(_block, memory="dram")
_fused = estimate_energy(_block, memory="dram", fused=True)
_MIB = 2**20


def _dram_mib(estimate) -> float:
    return sum(layer.bytes_moved for layer in estimate.layers) / _MIB


fused_dram_mib = Exercise(
    question=(
        f"Conv2d({FUSED_CHANNELS}, {FUSED_CHANNELS}, 3, padding=1, bias=False), then "
        f"BatchNorm2d({FUSED_CHANNELS}) and ReLU, on a 1 x {FUSED_CHANNELS} x {FUSED_SIDE} x "
        f"{FUSED_SIDE} fp32 input. Fused into one kernel, the conv reads its input and weights "
        "from DRAM, the batch norm reads its parameters, and only the ReLU's output is written "
        "back. How many MiB move to or from DRAM?"
    ),
    answer=_dram_mib(_fused),
    hint=(
        "Count 4 bytes per number: the input, the conv's weights (C x C x 3 x 3), the batch "
        "norm's scale and shift (2 x C), and one output; nothing in between."
    ),
    mistakes=[
        Mistake(
            _dram_mib(_unfused),
            "That is unfused: each layer reads its input from DRAM and writes its output back.",
        ),
        Mistake(_dram_mib(_fused) / 4, "That counts numbers, not bytes: fp32 takes 4 bytes."),
        Mistake(
            _dram_mib(_fused) - _block.layers[0].weight_bytes / _MIB,
            "The conv also reads its weights from DRAM.",
        ),
    ],
    unit="MiB",
)
