"""Invocations arrive at a pool of warm workers; the policy decides what waits and what runs."""

import random
from dataclasses import dataclass, field

type Seconds = float  # PEP 695 alias: needs Python 3.12 or newer


@dataclass
class Invocation:
    ident: int
    arrival: Seconds
    duration: Seconds


@dataclass
class Scheduler:
    workers: int
    busy_until: list[Seconds] = field(default_factory=list)


def simulate[P](policy: P, seed: int, count: int = 200) -> dict[str, float | bool | int]:
    """Run `count` invocations through `policy` (a module with `setup(s)` and `pick(s, now)`)."""
    rng = random.Random(seed)
    clock, pending = 0.0, []
    for ident in range(count):
        clock += rng.expovariate(4.0)
        pending.append(Invocation(ident, clock, rng.uniform(0.05, 0.6)))
    s = Scheduler(workers=2, busy_until=[0.0, 0.0])
    policy.setup(s)
    waits = []
    for invocation in pending:
        s.waiting_queue.append(invocation)
        while s.waiting_queue:
            chosen = policy.pick(s, invocation.arrival)
            s.waiting_queue.remove(chosen)
            worker = min(range(s.workers), key=lambda w: s.busy_until[w])
            start = max(s.busy_until[worker], chosen.arrival)
            s.busy_until[worker] = start + chosen.duration
            waits.append(start - chosen.arrival)
    return {
        "valid": True,
        "mean_wait": sum(waits) / len(waits),
        "num_requests": count,
        "num_completed": len(waits),
    }
