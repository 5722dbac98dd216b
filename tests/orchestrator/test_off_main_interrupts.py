"""Runs driven in worker threads (a parallel comparison's) are stopped by the main thread's Ctrl-C."""

from __future__ import annotations

import threading

from glia.orchestrator.interrupts import InterruptGuard, OffMainRuns


def _in_a_thread(guard: InterruptGuard, inside: threading.Event, leave: threading.Event) -> threading.Thread:
    def body() -> None:
        with guard:
            inside.set()
            leave.wait(10)

    thread = threading.Thread(target=body)
    thread.start()
    assert inside.wait(10)
    return thread


def test_guards_off_the_main_thread_are_stopped_and_cleaned_up_by_it(monkeypatch) -> None:
    runs = OffMainRuns()
    monkeypatch.setattr("glia.orchestrator.interrupts.OFF_MAIN", runs)
    cleaned: list[str] = []
    leave = threading.Event()
    first = InterruptGuard(threading.Event(), lambda: cleaned.append("first"))
    thread = _in_a_thread(first, threading.Event(), leave)
    assert runs.under_way() == 1 and not first.stop.is_set()

    assert runs.stop_all() == 1 and first.stop.is_set() and runs.stopping()
    late = InterruptGuard(threading.Event(), lambda: cleaned.append("late"))
    late_thread = _in_a_thread(late, threading.Event(), leave)
    assert late.stop.is_set()  # a run that joins after the Ctrl-C is stopped as it joins
    runs.clean_up_all()
    assert cleaned == ["first", "late"]

    leave.set()
    thread.join(10)
    late_thread.join(10)
    assert runs.under_way() == 0  # a guard leaves when its run ends
    runs.reset()
    assert not runs.stopping()
    fresh = InterruptGuard(threading.Event(), lambda: None)
    with fresh:  # the main thread installs handlers instead and does not join
        assert runs.under_way() == 0
    assert not fresh.stop.is_set()
