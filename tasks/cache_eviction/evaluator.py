"""Evaluator of the cache-eviction problem: hit rate of an online policy on generated access traces.

`evaluate(program_path, seed=0, family="standard")` builds the traces of one family from `seed`, replays
each through a cache of fixed capacity and asks the program's policy which key to evict whenever a miss
finds the cache full. A trace's score is the policy's hits divided by the hits of Belady's offline
optimum on the same trace (the best any policy could do), so 1.0 is perfect; `combined_score` is the mean
over the family's traces.

The policy sees only the past: the keys accessed since its previous decision, the key that missed, and
what is in the cache. It never sees the trace, the seed or the future.
"""

from __future__ import annotations

import heapq
import importlib.util
import math
import random
import time

CAPACITY = 64
TRACE_LENGTH = 4000

# Each family is a list of (generator, parameters). "standard" is what the task scores; "shifted" uses
# other mixes and sizes, to check that a policy is not tuned to the standard traces alone.
FAMILIES = {
    "standard": [
        ("zipf", {"universe": 2000, "alpha": 0.9}),
        ("scans", {"universe": 600, "alpha": 1.0, "scan_every": 400, "scan_length": 150}),
        ("loop", {"working_set": 80, "noise": 0.1, "universe": 2000}),
        ("phases", {"universe": 3000, "phase_length": 800, "hot_keys": 50}),
    ],
    "shifted": [
        ("zipf", {"universe": 5000, "alpha": 0.75}),
        ("scans", {"universe": 1000, "alpha": 1.1, "scan_every": 250, "scan_length": 220}),
        ("loop", {"working_set": 100, "noise": 0.2, "universe": 3000}),
        ("phases", {"universe": 3000, "phase_length": 500, "hot_keys": 70}),
    ],
}


# -- traces --------------------------------------------------------------------------------------


def _zipf_sampler(rng: random.Random, universe: int, alpha: float):
    weights = [1.0 / (rank + 1) ** alpha for rank in range(universe)]
    keys = list(range(universe))
    rng.shuffle(keys)  # popularity is not key order
    cumulative = []
    total = 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)

    def draw() -> int:
        return keys[min(_bisect(cumulative, rng.random() * total), universe - 1)]

    return draw


def _bisect(values: list[float], x: float) -> int:
    low, high = 0, len(values)
    while low < high:
        mid = (low + high) // 2
        if values[mid] < x:
            low = mid + 1
        else:
            high = mid
    return low


def make_trace(kind: str, params: dict, rng: random.Random, length: int = TRACE_LENGTH) -> list[int]:
    if kind == "zipf":
        draw = _zipf_sampler(rng, params["universe"], params["alpha"])
        return [draw() for _ in range(length)]
    if kind == "scans":
        # A popular set read Zipf-like, interrupted by sequential scans of keys never seen before.
        draw = _zipf_sampler(rng, params["universe"], params["alpha"])
        trace, next_cold = [], 10**6
        while len(trace) < length:
            if len(trace) % params["scan_every"] == 0 and trace:
                trace.extend(range(next_cold, next_cold + params["scan_length"]))
                next_cold += params["scan_length"]
            else:
                trace.append(draw())
        return trace[:length]
    if kind == "loop":
        # A cyclic walk over a working set a little larger than the cache, with some random noise.
        base = rng.randrange(10**5)
        trace, position = [], 0
        while len(trace) < length:
            if rng.random() < params["noise"]:
                trace.append(10**7 + rng.randrange(params["universe"]))
            else:
                trace.append(base + position)
                position = (position + 1) % params["working_set"]
        return trace
    if kind == "phases":
        # The hot set moves: each phase reads its own small set of keys, with a few stray keys.
        trace = []
        phase = 0
        while len(trace) < length:
            hot = rng.sample(range(params["universe"]), params["hot_keys"])
            for _ in range(params["phase_length"]):
                trace.append(rng.choice(hot) if rng.random() < 0.9 else rng.randrange(params["universe"]))
            phase += 1
        return trace[:length]
    raise ValueError(f"unknown trace kind {kind!r}")


# -- the optimum ----------------------------------------------------------------------------------


def belady_hits(trace: list[int], capacity: int) -> int:
    """Hits of the offline optimum: on a miss with a full cache, evict the key used furthest ahead."""
    next_use = [0] * len(trace)
    seen: dict[int, int] = {}
    for i in range(len(trace) - 1, -1, -1):
        next_use[i] = seen.get(trace[i], math.inf)
        seen[trace[i]] = i
    cached: dict[int, float] = {}  # key -> its next use
    heap: list[tuple[float, int]] = []  # (-next use, key), with stale entries skipped
    hits = 0
    for i, key in enumerate(trace):
        if key in cached:
            hits += 1
        elif len(cached) >= capacity:
            while True:
                negative, victim = heapq.heappop(heap)
                if cached.get(victim) == -negative:
                    del cached[victim]
                    break
        cached[key] = next_use[i]
        heapq.heappush(heap, (-next_use[i], key))
    return hits


# -- replaying a policy ---------------------------------------------------------------------------


class PolicyError(Exception):
    """The program's policy broke the rules (a victim not in the cache, a wrong type)."""


def replay(policy, trace: list[int], capacity: int) -> int:
    """Hits of `policy` on `trace`; the policy is asked only when a miss finds the cache full."""
    cached: dict[int, None] = {}
    recent: list[int] = []
    hits = 0
    for key in trace:
        if key in cached:
            hits += 1
            recent.append(key)
            continue
        if len(cached) >= capacity:
            victim = policy.evict(key, recent, list(cached))
            recent = []
            if isinstance(victim, bool) or not isinstance(victim, int) or victim not in cached:
                raise PolicyError(f"evict() returned {victim!r}, which is not a key in the cache")
            del cached[victim]
        else:
            recent.append(key)
        cached[key] = None
    return hits


def load_program(program_path: str):
    spec = importlib.util.spec_from_file_location("program", program_path)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    return program


def evaluate(program_path: str, seed: int = 0, family: str = "standard") -> dict:
    if family not in FAMILIES:
        raise ValueError(f"unknown trace family {family!r}; known: {sorted(FAMILIES)}")
    started = time.time()
    rng = random.Random(seed)
    traces = [
        (kind, make_trace(kind, params, random.Random(rng.randrange(2**32))))
        for kind, params in FAMILIES[family]
    ]
    try:
        program = load_program(program_path)
        ratios, hit_rates = {}, []
        for kind, trace in traces:
            policy = program.new_policy(CAPACITY)
            hits = replay(policy, trace, CAPACITY)
            best = belady_hits(trace, CAPACITY)
            ratios[kind] = hits / best if best else 1.0
            hit_rates.append(hits / len(trace))
    except Exception as exc:  # a broken program scores zero, with the reason
        return {"combined_score": 0.0, "hit_rate": 0.0, "error": f"{type(exc).__name__}: {exc}"}
    metrics = {f"ratio_{kind}": value for kind, value in ratios.items()}
    metrics.update(
        combined_score=sum(ratios.values()) / len(ratios),
        hit_rate=sum(hit_rates) / len(hit_rates),
        eval_time=time.time() - started,
    )
    return metrics
