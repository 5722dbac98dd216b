"""Evaluator of the shard-placement problem: pack model shards onto as few GPU servers as possible.

`evaluate(program_path, seed=0, mix="standard")` generates placement instances from `seed`, calls the
program's `place(shards, memory_gb, compute)` on each, checks the placement (every shard on one server,
no server over its memory or compute capacity) and scores it as the instance's lower bound on servers
divided by the servers used: 1.0 means provably optimal. `combined_score` is the mean over instances;
an invalid placement scores 0 for its instance.
"""

from __future__ import annotations

import importlib.util
import math
import random
import time

MEMORY_GB = 80.0  # one server's accelerator memory
COMPUTE = 1.0  # one server's compute, as a fraction of its throughput
INSTANCES = 6
TOLERANCE = 1e-9

# Two kinds of shards: big models that few requests use (much memory, little compute) and small models
# under heavy traffic (little memory, much compute). `cold` is the share of the first kind. Sizes are
# GB of weights plus KV reserve; loads are log-normal, as request rates across models are.
MIXES = {
    "standard": {"shards": (60, 90), "cold": 0.5, "cold_gb": (24, 56), "hot_gb": (4, 14), "hot_load": 0.3},
    "skewed": {"shards": (70, 100), "cold": 0.35, "cold_gb": (30, 64), "hot_gb": (3, 10), "hot_load": 0.22},
}


def make_instance(rng: random.Random, mix: dict) -> list[tuple[float, float]]:
    count = rng.randint(*mix["shards"])
    shards = []
    for _ in range(count):
        if rng.random() < mix["cold"]:
            size = rng.uniform(*mix["cold_gb"])
            load = 0.02 + 0.1 * rng.random()
        else:
            size = rng.uniform(*mix["hot_gb"])
            load = mix["hot_load"] * rng.lognormvariate(0.0, 0.5)
        shards.append((round(min(size, MEMORY_GB), 3), round(min(load, 0.95), 4)))
    shards.sort(key=lambda shard: -shard[0])  # the order of a deployment plan: the biggest models first
    return shards


def lower_bound(shards: list[tuple[float, float]]) -> int:
    """No placement uses fewer servers: total memory, total compute, and shards too big to share."""
    memory = math.ceil(sum(m for m, _ in shards) / MEMORY_GB - TOLERANCE)
    compute = math.ceil(sum(c for _, c in shards) / COMPUTE - TOLERANCE)
    big_memory = sum(1 for m, _ in shards if m > MEMORY_GB / 2)
    big_compute = sum(1 for _, c in shards if c > COMPUTE / 2)
    return max(1, memory, compute, big_memory, big_compute)


def check(shards: list[tuple[float, float]], placement) -> int:
    """The number of servers a valid placement uses; ValueError says what is wrong with an invalid one."""
    if not isinstance(placement, list | tuple) or len(placement) != len(shards):
        raise ValueError(
            f"place() must return one server index per shard ({len(shards)}), got {placement!r:.80}"
        )
    memory: dict[int, float] = {}
    compute: dict[int, float] = {}
    for (size, load), server in zip(shards, placement, strict=False):
        if isinstance(server, bool) or not isinstance(server, int) or server < 0:
            raise ValueError(f"server indices must be non-negative integers, got {server!r}")
        memory[server] = memory.get(server, 0.0) + size
        compute[server] = compute.get(server, 0.0) + load
    for server in memory:
        if memory[server] > MEMORY_GB + TOLERANCE or compute[server] > COMPUTE + TOLERANCE:
            raise ValueError(
                f"server {server} holds {memory[server]:.2f} GB and {compute[server]:.3f} compute, over its capacity"
            )
    return len(memory)


def evaluate(program_path: str, seed: int = 0, mix: str = "standard") -> dict:
    if mix not in MIXES:
        raise ValueError(f"unknown mix {mix!r}; known: {sorted(MIXES)}")
    started = time.time()
    rng = random.Random(seed)
    instances = [make_instance(random.Random(rng.randrange(2**32)), MIXES[mix]) for _ in range(INSTANCES)]
    spec = importlib.util.spec_from_file_location("program", program_path)
    program = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(program)
    except Exception as exc:
        return {"combined_score": 0.0, "error": f"the program did not load: {type(exc).__name__}: {exc}"}
    scores, servers, errors = [], [], []
    for shards in instances:
        try:
            used = check(shards, program.place([tuple(s) for s in shards], MEMORY_GB, COMPUTE))
        except Exception as exc:  # an invalid placement scores zero for this instance
            errors.append(f"{type(exc).__name__}: {exc}")
            scores.append(0.0)
            continue
        scores.append(lower_bound(shards) / used)
        servers.append(used)
    metrics = {
        "combined_score": sum(scores) / len(scores),
        "valid_placements": (len(instances) - len(errors)) / len(instances),
        "mean_servers": sum(servers) / len(servers) if servers else 0.0,
        "eval_time": time.time() - started,
    }
    if errors:
        metrics["error"] = errors[0]
    return metrics
