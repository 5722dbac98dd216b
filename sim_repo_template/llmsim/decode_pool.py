"""The decode-phase requests of one replica, advanced lazily in O(1) per iteration.

In every iteration each decoding request processes exactly one token. Instead of incrementing
each request, the pool keeps one counter, ``iterations``, and each member stores
``key = processed tokens - iterations`` when it joins; its processed tokens at any later time are
``key + iterations``. Aggregates the hot path needs are kept incrementally:

* ``context_sum`` (sum of processed tokens, the KV read per iteration) = sum(keys) + size x iterations;
* KV blocks: a decode request with ``p`` processed tokens holds ``ceil((p - 1) / B)`` blocks (the
  last produced token's KV is written by the next iteration) and needs one more block before an
  iteration exactly when ``p % B == 1``. Counting members by ``key % B`` gives, for any future
  iteration, how many members need a new block, in O(1);
* completions: a member finishes when its processed tokens reach its total; a heap ordered by that
  iteration number gives the next completion. That heap encodes decode lengths, so like a
  request's total it is stored in a slot no attribute name reaches, behind a reader that raises
  ``HiddenInformationError`` while router code runs (see ``llmsim.router_guard``).
"""

from __future__ import annotations

import heapq

from llmsim.request import Request
from llmsim.router_guard import hide_slot


class DecodePool:
    __slots__ = ("block_size", "iterations", "exec_time", "size", "key_sum", "residue_counts", "_hidden_heap")

    def __init__(self, block_size: int):
        self.block_size = block_size
        self.iterations = 0  # decode iterations this replica has run
        self.exec_time = 0.0  # their cumulative duration (per-request execution time, lazily)
        self.size = 0
        self.key_sum = 0
        self.residue_counts = [0] * block_size  # members by key % block_size
        _write_heap(self, [], None)  # (finish iteration, request id, epoch, request)

    # ---- membership ---------------------------------------------------------------------------

    def add(self, request: Request) -> None:
        key = request._processed - self.iterations
        request._in_pool = True
        request._pool_key = key
        request._pool_time_key = self.exec_time
        request._pool_epoch += 1
        self.size += 1
        self.key_sum += key
        self.residue_counts[key % self.block_size] += 1
        finish_iteration = request._total_tokens - key
        heapq.heappush(_read_heap(self, None), (finish_iteration, request.id, request._pool_epoch, request))

    def remove(self, request: Request) -> None:
        """Take a member out, writing its processed tokens and execution time back to it."""
        key = request._pool_key
        request._processed = key + self.iterations
        request.execution_time += self.exec_time - request._pool_time_key
        request._in_pool = False
        self.size -= 1
        self.key_sum -= key
        self.residue_counts[key % self.block_size] -= 1

    # ---- queries ------------------------------------------------------------------------------

    def processed(self, request: Request) -> int:
        return request._pool_key + self.iterations

    def blocks_held(self, request: Request) -> int:
        return -(-(self.processed(request) - 1) // self.block_size)

    @property
    def context_sum(self) -> int:
        return self.key_sum + self.size * self.iterations

    def blocks_needed_at(self, iteration: int) -> int:
        """Members that need one more block before running decode iteration number ``iteration``
        (their processed tokens p then satisfy p % B == 1)."""
        return self.residue_counts[(1 - iteration) % self.block_size]

    def needs_block_now(self, request: Request) -> bool:
        return self.processed(request) % self.block_size == 1

    def total_blocks(self) -> int:
        """Sum over members of ceil((p - 1) / B), from the residue counts (used by invariant checks)."""
        bs = self.block_size
        padding = 0
        for residue, count in enumerate(self.residue_counts):
            if count:
                q = (residue + self.iterations - 1) % bs  # (p - 1) % B for this class
                padding += count * ((bs - q) % bs)
        return (self.context_sum - self.size + padding) // bs

    def next_finish_iteration(self) -> int | None:
        """Iteration count at which the earliest member completes (None if the pool is empty)."""
        heap = _read_heap(self, None)
        while heap:
            _, _, epoch, request = heap[0]
            if request._in_pool and request._pool_epoch == epoch:
                return heap[0][0]
            heapq.heappop(heap)
        return None

    def pop_finished(self) -> list[Request]:
        """Remove and return members whose processed tokens reached their total (in id order)."""
        finished = []
        heap = _read_heap(self, None)
        while heap:
            finish_iteration, _, epoch, request = heap[0]
            if not (request._in_pool and request._pool_epoch == epoch):
                heapq.heappop(heap)
                continue
            if finish_iteration > self.iterations:
                break
            heapq.heappop(heap)
            self.remove(request)
            finished.append(request)
        return finished


_read_heap, _write_heap = hide_slot(DecodePool, "_hidden_heap", "the decode pool's completion schedule")
