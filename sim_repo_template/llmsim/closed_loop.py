"""A closed-loop workload: N users, each waiting for its answer before it sends the next request.

This is how interactive applications load a cluster (the Glia paper's prefill-heavy study keeps 200
requests in the system, "a chat application with 200 users waiting for LLM responses before sending
their next messages"). Each user repeats: send a request; wait until its last token arrives; think for
a while (exponentially distributed, mean `think_time` seconds; 0 means no pause); send the next one.
Users start staggered (each sends its first request after one think time), and send nothing after
`duration` seconds; the simulation ends when the last answer is complete. So at most N requests are
ever in the system, and the rate the cluster is offered depends on how fast it answers: a slower
cluster is sent fewer requests, which is why throughput is the natural objective of such a workload.

Determinism: user u's k-th request (its lengths and the think time before it) depends only on the
workload seed, u and k, never on timing, so two designs face the same users asking the same questions;
only when they ask depends on the designs. The simulator learns each request when it is sent; nothing
about later requests (lengths, think times) exists anywhere a design could read it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llmsim.errors import WorkloadError
from llmsim.lengths import prefill_heavy_lengths
from llmsim.request import Request
from llmsim.workload import WorkloadSpec, sharegpt_lengths

BLOCK = 16  # draws made at once per user (numpy is much faster per value in blocks)


@dataclass(frozen=True)
class ClosedLoopSpec:
    users: int
    think_time: float  # mean seconds between an answer and the user's next request (exponential)
    duration: float  # no request is sent after this time
    seed: int
    lengths: str = "prefill_heavy"
    max_context: int = 8192

    def __post_init__(self) -> None:
        if self.users < 1:
            raise WorkloadError(f"a closed-loop workload needs at least one user, got {self.users}")
        if self.think_time < 0 or not self.duration > 0:
            raise WorkloadError("think time must be >= 0 and duration positive")


class _User:
    """One user's private stream of (prompt, output, think time) draws."""

    __slots__ = ("seeds", "spec", "prompts", "outputs", "thinks", "index", "sent")

    def __init__(self, seed_sequence: np.random.SeedSequence, spec: ClosedLoopSpec) -> None:
        self.seeds = seed_sequence  # each block of draws gets fresh child streams (numpy >= 1.17)
        self.spec = spec
        self.index = BLOCK
        self.sent = 0

    def next_draw(self) -> tuple[int, int, float]:
        if self.index == BLOCK:
            lengths_rng, think_rng = (np.random.default_rng(s) for s in self.seeds.spawn(2))
            if self.spec.lengths == "prefill_heavy":
                self.prompts, self.outputs = prefill_heavy_lengths(
                    lengths_rng, lengths_rng, BLOCK, self.spec.max_context
                )
            else:
                self.prompts, self.outputs = sharegpt_lengths(lengths_rng, BLOCK, WorkloadSpec())
            mean = self.spec.think_time
            self.thinks = think_rng.exponential(mean, BLOCK) if mean > 0 else np.zeros(BLOCK)
            self.index = 0
        i = self.index
        self.index += 1
        return int(self.prompts[i]), int(self.outputs[i]), float(self.thinks[i])


class ClosedLoopSource:
    """Makes each user's next request when its previous one completes."""

    closed = True

    def __init__(self, spec: ClosedLoopSpec) -> None:
        self.spec = spec
        self._users = [_User(s, spec) for s in np.random.SeedSequence(spec.seed).spawn(spec.users)]
        self.user_of: dict[int, int] = {}  # request id -> user
        first = []
        for user_id, user in enumerate(self._users):
            prompt, output, think = user.next_draw()
            if think <= spec.duration:
                first.append((think, user_id, prompt, output))
        first.sort()
        self.requests: list[Request] = []
        for when, user_id, prompt, output in first:
            self._make(when, user_id, prompt, output)

    @property
    def num_requests(self) -> int:
        return len(self.requests)

    def next_after(self, request: Request, now: float) -> Request | None:
        """The request the user of `request` sends after thinking, or None (past the horizon)."""
        user_id = self.user_of[request.id]
        prompt, output, think = self._users[user_id].next_draw()
        when = now + think
        if when > self.spec.duration:
            return None
        return self._make(when, user_id, prompt, output)

    def _make(self, when: float, user_id: int, prompt: int, output: int) -> Request:
        request = Request(len(self.requests), when, prompt, output)
        self.requests.append(request)
        self.user_of[request.id] = user_id
        self._users[user_id].sent += 1
        return request
