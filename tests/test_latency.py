"""measure_latency / throughput_sweep: statistics, the time budget, restored state, errors.

No assertion here depends on how fast this machine is.
"""

from __future__ import annotations

import random
import time

import pytest
import torch
from torch import nn

import widgets
from widgets.core.latency import check_memory, summarize


class Recorder(nn.Module):
    """Identity module that records what it saw on each real call."""

    def __init__(self):
        super().__init__()
        self.dropout = nn.Dropout(0.5)
        self.calls = []

    def forward(self, x):
        if x.is_meta:  # the memory guard's profile() pass, not a real run
            return x
        self.calls.append(
            {
                "input": x,
                "training": self.training,
                "dropout_training": self.dropout.training,
                "threads": torch.get_num_threads(),
                "inference_mode": torch.is_inference_mode_enabled(),
            }
        )
        return x


# -- statistics -------------------------------------------------------------------------------


def test_summarize_known_sequence():
    times = [float(t) for t in range(1, 12)]  # 1..11 s
    random.Random(0).shuffle(times)
    timing = summarize(times, total_s=70.0, batch=4, threads=2)
    assert (timing.median_s, timing.p10_s, timing.p90_s, timing.mean_s) == (6.0, 2.0, 10.0, 6.0)
    assert timing.runs == 11 and timing.times_s == tuple(times)  # run order kept
    assert (timing.total_s, timing.batch, timing.threads) == (70.0, 4, 2)
    assert timing.throughput == 4 / 6.0


def test_summarize_interpolates_like_torch_quantile():
    times = torch.rand(37, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    timing = summarize(times.tolist(), total_s=1.0)
    expected = torch.quantile(times, torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64))
    actual = torch.tensor([timing.p10_s, timing.median_s, timing.p90_s], dtype=torch.float64)
    torch.testing.assert_close(actual, expected)


def test_summarize_even_count_and_single_run():
    assert summarize([4.0, 1.0, 3.0, 2.0], total_s=10.0).median_s == 2.5
    single = summarize([0.5], total_s=0.5)
    assert single.median_s == single.p10_s == single.p90_s == 0.5
    with pytest.raises(ValueError, match="times_s"):
        summarize([], total_s=0.0)


def test_timing_prints_readably():
    timing = summarize([0.0119, 0.0123, 0.0130], total_s=0.05, batch=1, threads=2)
    assert str(timing) == (
        "median 12.3 ms (p10 12.0, p90 12.9) over 3 runs, 81.3 samples/s, 2 threads"
    )
    fast = summarize([25e-6], total_s=1.0, batch=64, threads=1)
    assert (
        str(fast) == "median 25.0 µs (p10 25.0, p90 25.0) over 1 runs, 2560000 samples/s, 1 thread"
    )


# -- measuring --------------------------------------------------------------------------------


def test_budget_is_respected_with_a_sleeping_function():
    def sleep_20ms(x):
        time.sleep(0.02)

    timing = widgets.measure_latency(sleep_20ms, input_size=(1,), budget_s=0.2)
    assert timing.runs >= 5
    assert all(t >= 0.02 for t in timing.times_s)
    one_run = max(timing.times_s)
    warmup = 2 * one_run  # automatic warm-up: 2 runs, as 10 % of the budget fits in them
    assert timing.total_s < 0.2 + one_run + warmup + 0.02  # 0.02 s of loop overhead at most


def test_min_runs_beats_a_tiny_budget_and_warmup_is_not_timed():
    calls = []
    timing = widgets.measure_latency(
        lambda x: calls.append(x), inputs=torch.zeros(3), budget_s=1e-9, warmup=4, min_runs=7
    )
    assert timing.runs == 7 and len(timing.times_s) == 7
    assert len(calls) == 4 + 7


def test_model_runs_in_eval_and_inference_mode_and_modes_are_restored():
    model = Recorder().train()
    model.dropout.eval()  # mixed modes must come back exactly
    widgets.measure_latency(model, input_size=(2, 3), budget_s=0.01, warmup=0, min_runs=2)
    assert not any(call["training"] or call["dropout_training"] for call in model.calls)
    assert all(call["inference_mode"] for call in model.calls)
    assert model.training and not model.dropout.training


def test_threads_set_for_the_call_and_restored():
    before = torch.get_num_threads()
    model = Recorder()
    timing = widgets.measure_latency(model, input_size=(1,), budget_s=0.01, threads=1)
    assert {call["threads"] for call in model.calls} == {1}
    assert timing.threads == 1
    assert torch.get_num_threads() == before
    assert widgets.measure_latency(model, input_size=(1,), budget_s=0.01).threads == before


def test_threads_restored_when_the_model_fails():
    before = torch.get_num_threads()
    with pytest.raises(ValueError):
        widgets.measure_latency(nn.Linear(4, 2), input_size=(1, 5), budget_s=0.01, threads=1)
    assert torch.get_num_threads() == before


def test_input_size_gives_a_seeded_randn_and_the_batch():
    model = Recorder()
    timing = widgets.measure_latency(model, input_size=(4, 3), budget_s=0.01, warmup=0)
    first = model.calls[0]["input"]
    widgets.measure_latency(model, input_size=(4, 3), budget_s=0.01, warmup=0)
    torch.testing.assert_close(model.calls[-1]["input"], first)
    assert first.shape == (4, 3) and first.std() > 0
    assert timing.batch == 4


def test_tuple_inputs_and_batch_of_a_scalar():
    seen = []
    a, b = torch.ones(5, 2), torch.zeros(2, 3)
    timing = widgets.measure_latency(
        lambda x, y: seen.append(x @ y), inputs=(a, b), budget_s=0.01, warmup=0, min_runs=1
    )
    torch.testing.assert_close(seen[0], torch.zeros(5, 3))
    assert timing.batch == 5
    assert widgets.measure_latency(torch.neg, inputs=torch.tensor(1.0), budget_s=0.01).batch == 1


def test_throughput_sweep_one_timing_per_batch():
    model = nn.Sequential(nn.Linear(16, 16), nn.ReLU())
    timings = widgets.throughput_sweep(model, [1, 8, 32], input_shape=(16,), budget_s=0.01)
    assert [t.batch for t in timings] == [1, 8, 32]
    assert all(t.throughput == t.batch / t.median_s for t in timings)


# -- refusing work that cannot fit ------------------------------------------------------------


def test_check_memory_counts_peak_activations_of_a_module():
    model = nn.Linear(1000, 1000)
    x = torch.empty(1000, 1000, device="meta")
    # input and output (4 MB each) alive together; the weights already exist and are not counted
    assert check_memory(model, (x,), available_bytes=1e9) == 8e6
    assert check_memory(torch.neg, (x,), available_bytes=1e9) == 4e6  # a plain function: inputs
    with pytest.raises(MemoryError) as error:
        check_memory(model, (x,), available_bytes=10 * 2**20)
    assert (
        str(error.value)
        == "batch 1000 at 1000 needs about 7.63 MiB of activations, more than 50% of the 10.0 MiB of memory available"
    )


def test_huge_batch_is_refused_before_allocating():
    with pytest.raises(MemoryError, match=r"batch 1000000 at 3x224x224 needs about [\d.]+ TiB"):
        widgets.measure_latency(nn.Conv2d(3, 8, 3), input_size=(10**6, 3, 224, 224))


def test_sweep_refused_before_measuring_anything():
    model = Recorder()
    with pytest.raises(MemoryError, match="batch 1000000000 at 1000"):
        widgets.throughput_sweep(model, [1, 10**9], input_shape=(1000,), budget_s=0.01)
    assert model.calls == []


# -- bad input --------------------------------------------------------------------------------


def test_bad_arguments_name_the_parameter():
    model = nn.Linear(4, 2)
    with pytest.raises(ValueError, match="budget_s must be > 0, got 0"):
        widgets.measure_latency(model, input_size=(1, 4), budget_s=0)
    with pytest.raises(ValueError, match=r"exactly one of inputs .* got neither"):
        widgets.measure_latency(model)
    with pytest.raises(ValueError, match=r"exactly one of inputs .* got both"):
        widgets.measure_latency(model, inputs=torch.zeros(1, 4), input_size=(1, 4))
    with pytest.raises(TypeError, match="inputs must be a tensor or a tuple of tensors"):
        widgets.measure_latency(model, inputs=[[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"input_size\[0\] must be a positive integer, got 0"):
        widgets.measure_latency(model, input_size=(0, 4))
    with pytest.raises(ValueError, match="min_runs must be a positive integer"):
        widgets.measure_latency(model, input_size=(1, 4), min_runs=0)
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        widgets.measure_latency(model, input_size=(1, 4), threads=0)
    with pytest.raises(ValueError, match="warmup must be an integer >= 0, got -1"):
        widgets.measure_latency(model, input_size=(1, 4), warmup=-1)
    with pytest.raises(ValueError, match=r"batch_sizes\[1\] must be a positive integer, got 0"):
        widgets.throughput_sweep(model, [4, 0], input_shape=(4,))
    with pytest.raises(ValueError, match="batch_sizes must list at least one"):
        widgets.throughput_sweep(model, [], input_shape=(4,))


def test_model_failure_is_wrapped_with_the_input_shape():
    with pytest.raises(
        ValueError, match=r"the model failed on inputs of shape \(2, 5\): "
    ) as error:
        widgets.measure_latency(nn.Linear(4, 2), input_size=(2, 5), budget_s=0.01)
    assert isinstance(error.value.__cause__, RuntimeError)  # the original error is kept


def test_seconds_per_sample_is_one_over_throughput_not_a_latency():
    timing = summarize([0.04] * 5, total_s=0.2, batch=32)
    assert timing.seconds_per_sample == pytest.approx(1 / timing.throughput)
    assert timing.seconds_per_sample == pytest.approx(0.04 / 32)
    assert timing.median_s == 0.04  # what each of the 32 requests waits
