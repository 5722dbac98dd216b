"""Replica semantics, driven one iteration at a time."""

import math

import pytest
from llmsim.execution_model import ExecutionTimeModel
from llmsim.hardware import A10, LLAMA3_8B
from llmsim.replica import Replica
from llmsim.replica_schedulers import SarathiScheduler, VLLMScheduler

from tests.sim.conftest import make_requests, run_sim

MODEL = ExecutionTimeModel(LLAMA3_8B, A10)


class Clock:
    now = 0.0

    def __call__(self):
        return self.now


def make_replica(num_blocks=64, watermark=0, scheduler=None, skip_ahead=False):
    clock = Clock()
    replica = Replica(0, scheduler or SarathiScheduler(), MODEL, num_blocks, 16, watermark, clock, skip_ahead)
    return replica, clock


def step(replica, clock):
    """Run one batch; return (batch, completed)."""
    end = replica.start_batch(clock.now)
    assert end is not None and end > clock.now
    batch = replica._batch
    clock.now = end
    completed = replica.finish_batch(end)
    replica.check_invariants()
    return batch, completed


def test_decode_takes_one_more_block_at_each_block_boundary():
    replica, clock = make_replica()
    (request,) = make_requests([(0.0, 16, 40)])
    replica.enqueue(request, 0.0)
    step(replica, clock)  # prefill of 16 tokens -> 1 block, first token credited
    assert request.is_prefill_complete and request.num_processed_tokens == 17
    assert replica.allocator.num_allocated == 1
    seen = []
    while not request.is_completed:
        step(replica, clock)
        seen.append(
            (
                request.num_processed_tokens if not request.is_completed else 56,
                replica.allocator.num_allocated,
            )
        )
    # after a decode iteration with p processed tokens, the KV holds p tokens: ceil(p / 16) blocks
    for processed, blocks in seen[:-1]:
        assert blocks == math.ceil((processed - 1) / 16)
    assert [b for _, b in seen[:3]] == [2, 2, 2]  # the first decode (p = 17) crossed into block 2
    assert replica.allocator.num_allocated == 0  # all freed on completion


def test_youngest_running_request_is_preempted_and_goes_first_in_the_queue():
    replica, clock = make_replica(num_blocks=8)
    a, b, c, d = make_requests([(0.0, 30, 200), (1.0, 30, 200), (2.0, 30, 200), (3.0, 60, 5)])
    for r in (a, b, c):
        replica.enqueue(r, 3.0)
    clock.now = 3.0
    step(replica, clock)  # admits a, b, c: 2 blocks each
    assert replica.allocator.num_allocated == 6
    replica.enqueue(d, clock.now)  # needs 4 blocks: cannot be admitted
    while c.num_restarts == 0:
        step(replica, clock)
        assert a.num_restarts == 0 and b.num_restarts == 0
    assert list(replica.waiting)[:2] == [c, d]
    assert c not in replica.running and a in replica.running and b in replica.running


def test_restart_recomputes_everything_processed_so_far():
    replica, clock = make_replica(num_blocks=24)  # each request alone needs 22 blocks at the end
    a, b = make_requests([(0.0, 40, 300), (1.0, 40, 300)])
    replica.enqueue(a, 1.0)
    replica.enqueue(b, 1.0)
    clock.now = 1.0
    processed_before = 0
    while b.num_restarts == 0:
        processed_before = b.num_processed_tokens
        step(replica, clock)
    # b had processed `processed_before` tokens (prompt + generated); they become its new prefill
    assert b.num_prefill_tokens == processed_before
    assert b.num_processed_tokens == 0 and not b.is_prefill_complete
    assert b.num_decode_tokens == 340 - processed_before
    while not (a.is_completed and b.is_completed):
        step(replica, clock)
    assert b.first_token_at < b.completed_at and b.preemption_time > 0
    assert b.execution_time > a.execution_time  # it ran its lost work twice


def test_sarathi_chunks_long_prefills_and_mixes_decodes():
    replica, clock = make_replica(scheduler=SarathiScheduler(batch_cap=128, chunk_size=100))
    short, long_ = make_requests([(0.0, 10, 50), (0.0, 250, 5)])
    replica.enqueue(short, 0.0)
    step(replica, clock)
    replica.enqueue(long_, clock.now)
    chunks = []
    while not long_.is_prefill_complete:
        batch, _ = step(replica, clock)
        assert batch.runs_decodes  # the short request keeps decoding alongside
        chunks.append(dict((r.id, n) for r, n in batch.prefill_chunks)[long_.id])
    assert chunks == [99, 99, 52]  # every budget is shared with one decode token
    assert long_.num_processed_tokens == 251


def test_vllm_batches_are_prefill_only_or_decode_only():
    replica, clock = make_replica(scheduler=VLLMScheduler(batch_cap=128, chunk_size=8192))
    requests = make_requests([(0.0, 100, 30), (0.0, 200, 30), (0.0, 50, 30)])
    replica.enqueue(requests[0], 0.0)
    step(replica, clock)
    replica.enqueue(requests[1], clock.now)
    replica.enqueue(requests[2], clock.now)
    kinds = []
    while not all(r.is_completed for r in requests):
        batch, _ = step(replica, clock)
        assert not (batch.prefill_chunks and batch.runs_decodes)
        kinds.append("prefill" if batch.prefill_chunks else "decode")
    assert kinds[0] == "prefill" and set(kinds) == {"prefill", "decode"}


def test_single_request_latency_matches_the_time_model():
    prompt, decode = 300, 20
    sim = run_sim(make_requests([(5.0, prompt, decode)]), router="llq", num_replicas=1)
    (request,) = sim.requests
    expected_ttft = MODEL.prefill_time(prompt)
    expected_e2e = expected_ttft + sum(MODEL.decode_time(1, prompt + 1 + k) for k in range(decode - 1))
    assert request.first_token_at - request.arrived_at == pytest.approx(expected_ttft, rel=1e-12)
    assert request.completed_at - request.arrived_at == pytest.approx(expected_e2e, rel=1e-9)
    assert request.execution_time == pytest.approx(expected_e2e, rel=1e-9)


def test_one_token_output_completes_when_its_prefill_does():
    sim = run_sim(make_requests([(0.0, 64, 1)]), router="llq", num_replicas=1)
    (request,) = sim.requests
    assert request.completed_at == request.first_token_at
    assert sim.replicas[0].allocator.num_allocated == 0
