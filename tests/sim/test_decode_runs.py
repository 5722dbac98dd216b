"""The two planners of a skip-ahead decode run give the same plan, float for float."""

import random

import pytest
from llmsim.decode_runs import plan_long_run, plan_short_run


@pytest.mark.parametrize("trial", range(40))
def test_numpy_and_loop_planners_agree_exactly(trial):
    rng = random.Random(trial)
    block_size = 16
    size = rng.randint(1, 128)
    counts = [0] * block_size
    for _ in range(size):
        counts[rng.randrange(block_size)] += 1
    args = (
        rng.uniform(0, 5000),  # now
        rng.uniform(0.02, 0.05),  # a
        rng.uniform(1e-7, 3e-7),  # c
        rng.randint(size, size * 8000),  # context
        size,
        rng.uniform(0, 100),  # exec_time
        rng.randint(0, 10_000),  # first iteration
        rng.randint(2, 3000),  # limit
        rng.randint(0, 400),  # free blocks
        counts,
        block_size,
    )
    assert plan_long_run(*args) == plan_short_run(*args)


def test_a_run_stops_before_the_iteration_that_needs_more_blocks_than_are_free():
    counts = [0] * 16
    counts[0] = 3  # 3 decodes need a block every 16 iterations, at iteration i with (1 - i) % 16 == 0
    ends, cum_blocks, _ = plan_short_run(0.0, 1.0, 0.0, 10, 3, 0.0, 0, 100, 5, counts, 16)
    assert cum_blocks[:2] == [0, 3] and len(ends) == 17  # iteration 17 would need 6 blocks of 5 free
    assert ends == [float(i) for i in range(1, 18)]
    assert plan_long_run(0.0, 1.0, 0.0, 10, 3, 0.0, 0, 100, 5, counts, 16) == (ends, cum_blocks, _)
