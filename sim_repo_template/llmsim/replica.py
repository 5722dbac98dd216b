"""One GPU replica: its queues, its KV cache and the execution of its batches.

Queues, as a router sees them:
* ``waiting`` (pending): routed here, no KV memory yet (new, or preempted and waiting to restart);
* ``running`` (active): admitted, holding KV blocks; either still in prefill (``prefilling``) or
  decoding (the ``DecodePool``). ``running`` is kept in arrival order: its last element is the
  youngest request, the one preempted when a decode needs a block and none is free.

Time advances in iterations. ``start_batch`` asks the replica scheduler for a batch and returns when
it ends; ``finish_batch`` applies its effects and returns the requests that completed.

Skip-ahead (a speed-up with identical results). When the scheduler reports that the batch is
decode-only and would be formed again unchanged (``can_repeat_decode_batch``), the replica plans a
*run* of k identical decode iterations at once. The run stops before the first iteration where
(a) a request completes (completions change the batch and trigger the router), or (b) the blocks the
decodes need exceed the free blocks (that iteration must preempt, so it is formed step by step).
While the run lasts nothing else can change this replica: admission is impossible (the scheduler
checked it, and free memory only shrinks during the run), and the only outside input, a request
routed here, *truncates* the run after the iteration in flight, exactly where the step-by-step path
would first look at the new request. Iteration times use the same formula ``a + c * S`` in the same
order as the step-by-step path, so event times are bit-identical. Anything a router reads mid-run
(processed tokens, allocated blocks) is brought up to date first by ``sync``.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Callable

from llmsim.decode_pool import DecodePool
from llmsim.decode_runs import SHORT_RUN, plan_long_run, plan_short_run
from llmsim.errors import InvariantViolation
from llmsim.execution_model import ExecutionTimeModel
from llmsim.kv_cache import BlockAllocator, blocks_for
from llmsim.replica_schedulers.base import Batch, ReplicaScheduler
from llmsim.request import Request

MAX_RUN_ITERATIONS = 1 << 15


class DecodeRun:
    """A planned run of identical decode iterations (k = 1 on the step-by-step path).

    Planning precomputes, per iteration i, its end time, the blocks reserved before iterations
    0..i (cumulative) and the pool's cumulative execution time after it, so bringing the run up to
    any point is O(1)."""

    __slots__ = ("first_iteration", "ends", "cum_blocks", "cum_exec", "length", "applied", "reserved")

    def __init__(self, first_iteration: int, ends: list[float], cum_blocks: list[int], cum_exec: list[float]):
        self.first_iteration = first_iteration
        self.ends = ends  # end time of each iteration
        self.cum_blocks = cum_blocks  # blocks needed before iterations 0..i (0 for i = 0: form_batch did it)
        self.cum_exec = cum_exec  # pool.exec_time after iteration i
        self.length = len(ends)  # may shrink when truncated
        self.applied = 0  # iterations whose effects are already applied
        self.reserved = 1  # iterations whose blocks are reserved (the first one by form_batch)


class Replica:
    def __init__(
        self,
        replica_id: int,
        scheduler: ReplicaScheduler,
        time_model: ExecutionTimeModel,
        num_blocks: int,
        block_size: int,
        watermark_blocks: int,
        clock: Callable[[], float],
        skip_ahead: bool = True,
    ):
        self.replica_id = replica_id
        self.scheduler = scheduler
        self.time_model = time_model
        self.allocator = BlockAllocator(num_blocks, block_size, watermark_blocks)
        self.block_size = block_size
        self.skip_ahead = skip_ahead
        self._clock = clock
        self.waiting: deque[Request] = deque()
        self.running: list[Request] = []  # arrival order
        self._running_keys: list[tuple[float, int]] = []
        self.prefilling: list[Request] = []  # arrival order
        self.pool = DecodePool(block_size)
        self.busy = False
        self._batch: Batch | None = None
        self._batch_duration = 0.0
        self._run: DecodeRun | None = None
        self.version = 0  # bumped when a planned batch end moves (stale events are ignored)
        self.queue_epoch = 0  # bumped whenever a request joins or leaves the queues or changes phase
        self.num_iterations = 0
        self.num_preemptions = 0
        self.draining = False  # removed by the autoscaler: receives nothing new, finishes what it holds
        # cumulative work, for autoscalers (per-interval throughput) and the run's summary
        self.tokens_generated = 0  # output tokens (first tokens included)
        self.prefill_tokens_done = 0  # prompt (and recompute) tokens processed
        self.num_completed = 0

    # ---- what routers read ------------------------------------------------------------------

    @property
    def num_pending_requests(self) -> int:
        return len(self.waiting)

    @property
    def num_active_requests(self) -> int:
        return len(self.running)

    @property
    def pending_requests(self) -> tuple[Request, ...]:
        return tuple(self.waiting)

    @property
    def active_requests(self) -> tuple[Request, ...]:
        return tuple(self.running)

    @property
    def num_blocks(self) -> int:
        return self.allocator.num_blocks

    @property
    def num_allocated_blocks(self) -> int:
        self.sync(self._clock())
        return self.allocator.num_allocated

    @property
    def num_free_blocks(self) -> int:
        return self.num_blocks - self.num_allocated_blocks

    @property
    def memory_usage_percent(self) -> float:
        return 100.0 * self.num_allocated_blocks / self.num_blocks

    @property
    def num_decoding(self) -> int:
        return self.pool.size

    def processed_tokens_of(self, request: Request) -> int:
        self.sync(self._clock())
        return self.pool.processed(request)

    # ---- operations replica schedulers use ----------------------------------------------------

    def can_admit(self, request: Request) -> bool:
        """`BlockAllocator.can_admit`, inlined (the hot path asks ~30,000 times a run): free blocks minus
        the blocks of the whole prefill (``n // -size`` is minus ceil(n / size)) stay above the watermark."""
        allocator = self.allocator
        free = allocator.num_blocks - allocator.num_allocated
        return free + request.num_prefill_tokens // -self.block_size >= allocator.watermark_blocks

    def admit(self, request: Request, now: float) -> None:
        """Move a waiting request (usually the head of the queue) to running, allocating blocks for its
        whole prefill."""
        if self.waiting and self.waiting[0] is request:
            self.waiting.popleft()
        elif request._replica is self and request in self.waiting:
            self.waiting.remove(request)
        else:
            raise InvariantViolation(f"admit({request.id}): not waiting on replica {self.replica_id}")
        self.queue_epoch += 1
        request._blocks = blocks_for(request.num_prefill_tokens, self.block_size)
        self.allocator.allocate(request._blocks)
        key = (request.arrived_at, request.id)
        index = bisect_left(self._running_keys, key)
        self._running_keys.insert(index, key)
        self.running.insert(index, request)
        insort(self.prefilling, request, key=lambda r: (r.arrived_at, r.id))
        if request.scheduled_at is None:
            request.scheduled_at = now
        if request.preempted_at is not None:
            request.preemption_time += now - request.preempted_at
            request.preempted_at = None

    def reserve_decode_blocks(self, now: float) -> None:
        """Give every decode its next block if it crosses a block boundary this iteration. While the
        blocks needed exceed the free ones, preempt the youngest running request (possibly one of
        the decodes itself): equivalent to serving decodes oldest first and preempting on demand."""
        pool = self.pool
        needed = pool.blocks_needed_at(pool.iterations)
        while needed > self.allocator.num_free:
            victim = self.running[-1]
            if victim._in_pool and pool.needs_block_now(victim):
                needed -= 1
            self.preempt(victim, now)
        self.allocator.allocate(needed)

    def preempt(self, request: Request, now: float) -> None:
        """Evict a running request: free its blocks, lose its progress, queue it first to restart."""
        index = bisect_left(self._running_keys, (request.arrived_at, request.id))
        if index >= len(self.running) or self.running[index] is not request:
            raise InvariantViolation(f"preempting request {request.id}, which is not running here")
        del self.running[index]
        del self._running_keys[index]
        if request._in_pool:
            freed = self.pool.blocks_held(request)
            self.pool.remove(request)
        else:
            freed = request._blocks
            self.prefilling.remove(request)
        self.allocator.free(freed)
        request.restart(now)
        self.waiting.appendleft(request)
        self.num_preemptions += 1
        self.queue_epoch += 1

    # ---- the simulator's interface ------------------------------------------------------------

    def enqueue(self, request: Request, now: float) -> float | None:
        """A router sent ``request`` here. Returns the new end time of the batch in flight if a
        skip-ahead run had to be truncated (the caller reschedules its batch-end event)."""
        self.sync(now)
        request._replica = self
        self.waiting.append(request)
        self.queue_epoch += 1
        run = self._run
        if run is None or run.length == run.applied + 1:
            return None
        run.length = run.applied + 1
        self.version += 1
        return run.ends[run.length - 1]

    def start_batch(self, now: float) -> float | None:
        """Form and start the next batch; returns its end time, or None if there is nothing to run."""
        if self.busy:
            raise InvariantViolation(f"replica {self.replica_id} asked to start a batch while one is running")
        batch = self.scheduler.form_batch(self, now)
        pool = self.pool
        if batch.is_empty(pool.size):
            return None
        self.busy = True
        self._batch = batch
        if not batch.prefill_chunks:
            self._run = self._plan_decode_run(now, batch)
            return self._run.ends[-1]
        duration = self._mixed_batch_time(batch)
        self._batch_duration = duration
        self._run = None
        return now + duration

    def finish_batch(self, now: float) -> list[Request]:
        """Apply the batch (or run) that ends now; return requests that completed, in id order."""
        batch = self._batch
        completed: list[Request] = []
        if self._run is not None:
            run = self._run
            self._advance_run(run, run.length)
            self.num_iterations += run.length
        else:
            duration = self._batch_duration
            if batch.runs_decodes and self.pool.size:
                self.pool.iterations += 1
                self.pool.exec_time += duration
                self.tokens_generated += self.pool.size
            for request, chunk in batch.prefill_chunks:
                request.execution_time += duration
                request._processed += chunk
                self.prefill_tokens_done += chunk
                if request._processed == request.num_prefill_tokens:
                    self._finish_prefill(request, now, completed)
            self.num_iterations += 1
        for request in self.pool.pop_finished():
            self.allocator.free(-(-(request._total_tokens - 1) // self.block_size))
            self._remove_running(request)
            request.completed_at = now
            completed.append(request)
        self.num_completed += len(completed)
        self.busy = False
        self._batch = None
        self._run = None
        if len(completed) > 1:
            completed.sort(key=_request_id)
        return completed

    def sync(self, now: float) -> None:
        """Bring a skip-ahead run up to ``now``: apply the iterations that ended before ``now`` and
        reserve blocks for the one in flight, as the step-by-step path would have."""
        run = self._run
        if run is None or run.length == 1:
            return
        done = bisect_left(run.ends, now, 0, run.length - 1)
        if done > run.applied:
            self._advance_run(run, done)

    # ---- internals ----------------------------------------------------------------------------

    def _advance_run(self, run: DecodeRun, done: int) -> None:
        reserve_through = min(done + 1, run.length)
        if reserve_through > run.reserved:
            self.allocator.allocate(run.cum_blocks[reserve_through - 1] - run.cum_blocks[run.reserved - 1])
            run.reserved = reserve_through
        if done > run.applied:
            self.tokens_generated += (done - run.applied) * self.pool.size
            self.pool.iterations = run.first_iteration + done
            self.pool.exec_time = run.cum_exec[done - 1]
            run.applied = done

    def _plan_decode_run(self, now: float, batch: Batch) -> DecodeRun:
        pool = self.pool
        a, c = self.time_model.decode_coefficients(pool.size)
        first = pool.iterations
        limit = 1
        if self.skip_ahead and self.scheduler.can_repeat_decode_batch(self, batch):
            limit = min(pool.next_finish_iteration() - first, MAX_RUN_ITERATIONS)
        plan = plan_long_run if limit > SHORT_RUN else plan_short_run
        ends, cum_blocks, cum_exec = plan(
            now, a, c, pool.context_sum, pool.size, pool.exec_time, first, limit,
            self.allocator.num_free, pool.residue_counts, self.block_size,
        )  # fmt: skip
        return DecodeRun(first, ends, cum_blocks, cum_exec)

    def _mixed_batch_time(self, batch: Batch) -> float:
        decodes = self.pool.size if batch.runs_decodes else 0
        tokens = decodes
        pairs = 0.0
        for request, chunk in batch.prefill_chunks:
            tokens += chunk
            pairs += chunk * (request._processed + chunk / 2)
        context = self.pool.context_sum if decodes else 0
        return self.time_model.iteration_time(decodes + len(batch.prefill_chunks), tokens, context, pairs)

    def _finish_prefill(self, request: Request, now: float, completed: list[Request]) -> None:
        """The iteration that ends a prefill also produces the first output token."""
        request.is_prefill_complete = True
        request._processed += 1
        self.queue_epoch += 1
        self.tokens_generated += 1
        if request.first_token_at is None:
            request.first_token_at = now
        self.prefilling.remove(request)
        if request._processed >= request._total_tokens:
            self.allocator.free(request._blocks)
            self._remove_running(request)
            request.completed_at = now
            completed.append(request)
        else:
            self.pool.add(request)
        request._blocks = 0

    def _remove_running(self, request: Request) -> None:
        index = bisect_left(self._running_keys, (request.arrived_at, request.id))
        del self.running[index]
        del self._running_keys[index]
        self.queue_epoch += 1

    def check_invariants(self) -> None:
        """Block accounting must match the requests holding blocks; used by tests and --debug."""
        held = sum(r._blocks for r in self.prefilling) + self.pool.total_blocks()
        if self.busy and self._run is not None:
            return  # mid-run reservations are lazily applied; checked at batch ends
        if held != self.allocator.num_allocated:
            raise InvariantViolation(
                f"replica {self.replica_id}: {self.allocator.num_allocated} blocks allocated, requests hold {held}"
            )
        if not 0 <= self.allocator.num_allocated <= self.allocator.num_blocks:
            raise InvariantViolation(f"replica {self.replica_id}: allocated blocks out of range")
        if len(self.running) != len(self.prefilling) + self.pool.size:
            raise InvariantViolation(f"replica {self.replica_id}: running list out of step")


def _request_id(request: Request) -> int:
    return request.id
