"""Lab 04 (efficiency metrics): exercises and predictions, answers computed with widgets.core."""

from __future__ import annotations

import functools

from torch import nn

from widgets.core.energy import (
    EnergyEstimate,
    estimate_energy,
    mac_energy_pj,
    pj_per_byte,
    table_pj,
)
from widgets.core.latency import summarize
from widgets.core.layers import layer_cost
from widgets.core.profiler import Profile, meta_profile
from widgets.core.roofline import layer_traffic
from widgets.core.units import MIB

from . import Exercise, Lab, Mistake, Prediction, macs_for_flops

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
    solution=[
        f"MACs: {_ffn.macs_formula}",
        f"FlopCounterMode counts 2 FLOPs per MAC: 2 x {_ffn.macs:,} = {_ffn.flops:,} "
        "(the bias add is not counted).",
    ],
)

# --- latency vs throughput ----------------------------------------------------------------

SERVED_BATCH, SERVED_LATENCY_S = 32, 0.040

_served = summarize([SERVED_LATENCY_S], SERVED_LATENCY_S, batch=SERVED_BATCH)

served_throughput = Exercise(
    question=(
        f"A server runs batches of {SERVED_BATCH} images, and one batch takes "
        f"{SERVED_LATENCY_S * 1e3:g} ms. What is its throughput, in images per second?"
    ),
    answer=_served.throughput,
    hint="Throughput = samples per batch / seconds per batch.",
    mistakes=[
        Mistake(1 / SERVED_LATENCY_S, f"That is batches per second; each holds {SERVED_BATCH}."),
        Mistake(
            SERVED_BATCH / (SERVED_LATENCY_S * 1e3),
            "That is images per millisecond: a second is 1000 ms.",
        ),
    ],
    unit="images/s",
    solution=[
        f"Latency of one batch: {SERVED_LATENCY_S * 1e3:g} ms = {SERVED_LATENCY_S:g} s.",
        f"Throughput = images per batch / seconds per batch = {SERVED_BATCH} / "
        f"{SERVED_LATENCY_S:g} s = {_served.throughput:g} images/s.",
    ],
)

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
    solution=[
        f"The {SERVED_BATCH} answers of a batch come out together, after the whole batch: "
        f"{SERVED_LATENCY_S * 1e3:g} ms.",
        f"{SERVED_LATENCY_S * 1e3:g} ms / {SERVED_BATCH} = {_served.seconds_per_sample * 1e3:.3g} ms "
        "is 1 / throughput, the time per image averaged over the batch, not any image's wait.",
    ],
)

# --- FLOPs vs FLOP/s ----------------------------------------------------------------------

RESNET_LATENCY_S = 0.050


IMAGE = (1, 3, 224, 224)


@functools.cache
def _profile(model: str) -> Profile:
    """meta_profile of a torchvision model on one 224 x 224 image, run on first use."""
    return meta_profile(model, IMAGE)


def _resnet_gflops() -> Exercise:
    resnet50 = _profile("resnet50")
    return Exercise(
        question=(
            f"ResNet-50 does {resnet50.macs / 1e9:.2f} G MACs per 224 x 224 image. If one image "
            f"takes {RESNET_LATENCY_S * 1e3:g} ms, how many GFLOP/s (1e9 FLOP per second) did the "
            "CPU achieve?"
        ),
        answer=resnet50.flops / RESNET_LATENCY_S / 1e9,
        hint="FLOP/s is work per time: FLOPs (2 per MAC) divided by seconds.",
        mistakes=[
            Mistake(
                resnet50.macs / RESNET_LATENCY_S / 1e9,
                "That counts MACs per second: each MAC is 2 FLOPs.",
            ),
            Mistake(
                resnet50.flops / 1e9,
                "That is the work (GFLOP), not the speed: divide by the time.",
            ),
            Mistake(
                resnet50.flops / (RESNET_LATENCY_S * 1e3) / 1e9,
                "That divides by milliseconds: 50 ms = 0.05 s.",
            ),
        ],
        unit="GFLOP/s",
        solution=[
            f"FLOPs = 2 x MACs = 2 x {resnet50.macs:,} = {resnet50.flops:,}.",
            f"FLOP/s = FLOPs / seconds = {resnet50.flops:,} / {RESNET_LATENCY_S:g} s = "
            f"{resnet50.flops / RESNET_LATENCY_S:.4g} FLOP/s.",
            f"In GFLOP/s (1e9 FLOP/s): {resnet50.flops / RESNET_LATENCY_S / 1e9:.4g}.",
        ],
    )


# --- arithmetic intensity -----------------------------------------------------------------

SQUARE_FEATURES = 1024
LARGE_BATCH = 256


_SQUARE_LINEAR = functools.partial(nn.Linear, SQUARE_FEATURES, SQUARE_FEATURES)


def _linear_intensity(batch: int, bits: int = 32) -> tuple[float, float]:
    """(FLOPs, bytes moved) of nn.Linear(SQUARE_FEATURES, SQUARE_FEATURES) at `batch`."""
    ((row, moved),) = layer_traffic(meta_profile(_SQUARE_LINEAR, (batch, SQUARE_FEATURES), bits))
    return row.flops, moved


def _intensity_steps(batch: int) -> list[str]:
    """FLOPs, bytes moved and intensity of the square linear layer at `batch`, filled in."""
    ((row, moved),) = layer_traffic(meta_profile(_SQUARE_LINEAR, (batch, SQUARE_FEATURES), 32))
    return [
        f"Batch {batch}: FLOPs = 2 x {row.macs:,} MACs = {row.flops:,}.",
        f"Bytes moved once: ({row.params:,} weights and biases + {row.input_elements:,} inputs + "
        f"{row.output_elements:,} outputs) x 4 bytes (fp32) = {moved:,.0f}.",
        f"Intensity = {row.flops:,} / {moved:,.0f} = {row.flops / moved:.4g} FLOP/byte.",
    ]


def _linear_intensity_exercise() -> Exercise:
    flops_one, bytes_one = _linear_intensity(batch=1)
    return Exercise(
        question=(
            f"What is the arithmetic intensity (FLOP per byte) of nn.Linear({SQUARE_FEATURES}, "
            f"{SQUARE_FEATURES}) on one fp32 sample? Count the bytes that move once: weights, bias, "
            "input and output."
        ),
        answer=flops_one / bytes_one,
        hint="Intensity = FLOPs / bytes; fp32 numbers take 4 bytes, and the weights dominate.",
        mistakes=[
            Mistake(
                flops_one / 2 / bytes_one, "That counts MACs: intensity counts FLOPs, 2 per MAC."
            ),
            Mistake(
                flops_one / (8 * bytes_one), "That divides by bits: intensity is FLOP per byte."
            ),
            Mistake(
                flops_one / (bytes_one / 4), "That counts numbers, not bytes: fp32 takes 4 bytes."
            ),
        ],
        unit="FLOP/byte",
        solution=_intensity_steps(batch=1),
    )


def _batch_intensity_gain() -> Prediction:
    flops_one, bytes_one = _linear_intensity(batch=1)
    flops_large, bytes_large = _linear_intensity(batch=LARGE_BATCH)
    return Prediction(
        question=(
            f"Run the same layer on a batch of {LARGE_BATCH} instead of 1. By what factor does its "
            "arithmetic intensity grow?"
        ),
        measured=(flops_large / bytes_large) / (flops_one / bytes_one),
        explanation=(
            f"The FLOPs grow {LARGE_BATCH} x, but the weights are read once per batch and only the "
            "inputs and outputs grow with it, so the intensity grows a bit less. Batching moves a "
            "layer to the right on the roofline, from memory-bound toward compute-bound."
        ),
        unit="x",
        source="computed",  # by widgets.core: nothing is timed
        solution=[
            *_intensity_steps(batch=1),
            *_intensity_steps(batch=LARGE_BATCH),
            f"Ratio: {flops_large / bytes_large:.4g} / {flops_one / bytes_one:.4g} = "
            f"{(flops_large / bytes_large) / (flops_one / bytes_one):.3g}.",
        ],
    )


# --- energy: memory access vs arithmetic ----------------------------------------------------


_dram_word_pj = table_pj("dram read", 32)

dram_vs_mac = Exercise(
    question=(
        "In the lecture's 45 nm energy table (ENERGY_TABLE: its arithmetic from Horowitz, ISSCC "
        "2014; its 640 pJ DRAM read as the lecture gives it), how many fp32 multiply-accumulates "
        "(one fp32 multiply and one fp32 add) cost as much energy as reading one 32-bit word from "
        "DRAM?"
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
    solution=[
        f"DRAM read of a 32-bit word: {_dram_word_pj:g} pJ.",
        f"One fp32 MAC = fp mult {table_pj('fp mult', 32):g} pJ + fp add "
        f"{table_pj('fp add', 32):g} pJ = {mac_energy_pj(32):g} pJ.",
        f"{_dram_word_pj:g} / {mac_energy_pj(32):g} = {_dram_word_pj / mac_energy_pj(32):.4g} MACs.",
    ],
)


def _memory_energy_share() -> Prediction:
    mobilenet = _profile("mobilenet_v2")
    energy = estimate_energy(mobilenet, memory="dram")
    return Prediction(
        question=(
            "MobileNetV2 in fp32, with every weight and activation read from (or written to) DRAM "
            "once per inference, each layer on its own (no fused layers): what percentage of the "
            "energy of one inference goes to memory traffic rather than to arithmetic?"
        ),
        measured=100 * energy.memory_pj / energy.total_pj,
        explanation=(
            f"Its {mobilenet.macs / 1e6:.0f} M MACs cost {mac_energy_pj(32):.1f} pJ each, but "
            f"every byte from DRAM costs {pj_per_byte('dram'):.0f} pJ: moving data, not computing, dominates. Keeping data "
            "on chip (SRAM) and using fewer bits are the big levers."
        ),
        unit="%",
        source="computed",  # by widgets.core: nothing is timed
        solution=[
            f"Arithmetic: {mobilenet.macs:,} MACs x {energy.mac_pj:.3g} pJ = "
            f"{energy.compute_pj / 1e9:.3g} mJ.",
            f"Memory: {sum(layer.bytes_moved for layer in energy.layers):,.0f} bytes x "
            f"{pj_per_byte('dram'):g} pJ per byte = {energy.memory_pj / 1e9:.3g} mJ.",
            f"Share of memory: {energy.memory_pj / 1e9:.3g} / {energy.total_pj / 1e9:.3g} mJ = "
            f"{100 * energy.memory_pj / energy.total_pj:.3g}%.",
        ],
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


def _dram_mib(estimate: EnergyEstimate) -> float:
    return sum(layer.bytes_moved for layer in estimate.layers) / MIB


def _fused_dram_mib() -> Exercise:
    block = meta_profile(_conv_bn_relu, (1, FUSED_CHANNELS, FUSED_SIDE, FUSED_SIDE))
    unfused = estimate_energy(block, memory="dram")
    fused = estimate_energy(block, memory="dram", fused=True)
    return Exercise(
        question=(
            f"Conv2d({FUSED_CHANNELS}, {FUSED_CHANNELS}, 3, padding=1, bias=False), then "
            f"BatchNorm2d({FUSED_CHANNELS}) and ReLU, on a 1 x {FUSED_CHANNELS} x {FUSED_SIDE} x "
            f"{FUSED_SIDE} fp32 input. Fused into one kernel, the conv reads its input and weights "
            "from DRAM, the batch norm reads its parameters, and only the ReLU's output is written "
            "back. How many MiB move to or from DRAM?"
        ),
        answer=_dram_mib(fused),
        hint=(
            "Count 4 bytes per number: the input, the conv's weights (C x C x 3 x 3), the batch "
            "norm's scale and shift (2 x C), and one output; nothing in between."
        ),
        mistakes=[
            Mistake(
                _dram_mib(unfused),
                "That is unfused: each layer reads its input from DRAM and writes its output back.",
            ),
            Mistake(_dram_mib(fused) / 4, "That counts numbers, not bytes: fp32 takes 4 bytes."),
            Mistake(
                _dram_mib(fused) - block.layers[0].weight_bytes / MIB,
                "The conv also reads its weights from DRAM.",
            ),
        ],
        unit="MiB",
    )


# Exercises that need a profile are built on first use (PEP 562), so importing this module
# profiles no model; each is built once, so a prediction keeps its first guess.
_BUILT_ON_FIRST_USE = {
    "resnet_gflops": _resnet_gflops,
    "linear_intensity": _linear_intensity_exercise,
    "batch_intensity_gain": _batch_intensity_gain,
    "memory_energy_share": _memory_energy_share,
    "fused_dram_mib": _fused_dram_mib,
}

lab = Lab(globals(), built_on_first_use=_BUILT_ON_FIRST_USE)
progress, __getattr__, __dir__ = lab.progress, lab.module_getattr, lab.module_dir
