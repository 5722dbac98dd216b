"""The core scheduler: simulations hold a core while they run; a starved one is slowed, never refused."""

from __future__ import annotations

import threading
import time

from glia.cores import CoreScheduler, load_per_core, oversubscribed, plan_line


def test_cores_are_held_released_and_a_starved_taker_goes_on_after_its_wait() -> None:
    cores = CoreScheduler(2)
    assert cores.take("a", 1.0) and cores.take("b", 1.0) and cores.in_use == 2
    started = time.monotonic()
    assert cores.take("c", 0.2) is False  # none free: it waited, then goes on without one
    assert time.monotonic() - started >= 0.19 and cores.in_use == 2
    cores.give("c")  # holds nothing: gives nothing back
    cores.give("a")
    cores.give("a")  # twice: still one core back, not two
    got = []
    waiter = threading.Thread(target=lambda: got.append(cores.take("d", 5.0)))
    waiter.start()
    waiter.join(2.0)
    assert got == [True] and cores.in_use == 2
    with cores.core(timeout_s=0.1) as taken:
        assert taken is False
    cores.give("b")
    with cores.core() as taken:
        assert taken and cores.in_use == 1  # a block's core is not keyed: in_use counts the keyed ones
    assert "Cores: " in plan_line(4, 2)


def test_load_is_read_from_the_system() -> None:
    load = load_per_core()
    assert load is not None and load >= 0
    assert oversubscribed(threshold=load + 1000) is False
