"""The program host and its stand-in: values, remote objects, callbacks, threads, scripts, hostile programs.

The host runs as its own process (as in the design sandbox); the stand-in module is made in this process
with `stand_in`, exactly as the generated stub does it in the core.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from glia.isolation.program_proxy import ProgramError, ProgramFailed, stand_in
from tests.problems.support import copy_isolation, short_dir

PROGRAM = """
import numpy as np

COUNTER = 0
LIMIT = 10


def bump():
    global COUNTER
    COUNTER += 1
    return COUNTER


def echo(value):
    return value


def shapes():
    return (1, 2.5), {3: "three", (4, 5): [6]}, {7, 8}, frozenset({9}), b"\\x00\\xff", np.arange(4, dtype=np.int64), np.ones(3, dtype=np.float32), np.float64(1.5)


class Box:
    def __init__(self, items):
        self.items = list(items)
        self.label = "box"

    def total(self, scale=1):
        return sum(self.items) * scale

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        return self.items[index]

    def __contains__(self, item):
        return item in self.items

    def __repr__(self):
        return f"Box({self.items})"

    @property
    def __array_interface__(self):
        return {"data": (0, False), "shape": (1,), "typestr": "<f8", "version": 3}


def count_to(n):
    for i in range(n):
        yield i * i


def call_back(function, value):
    return function(value) + 1


def fail(kind):
    if kind == "value":
        raise ValueError("bad value")
    class Custom(Exception):
        pass
    raise Custom("custom trouble")


def leave():
    import sys
    sys.exit(4)


def crash():
    import os
    os._exit(9)


def hang():
    import time
    time.sleep(3600)


def flood():
    return b"x" * (40 * 2**20)


def slow(seconds):
    import time
    time.sleep(seconds)
    return "late"


if __name__ == "__main__":
    import sys
    data = sys.stdin.read()
    if sys.argv[1:] == ["flood"]:
        while True:
            sys.stdout.write("y" * 65536)
    print("args", sys.argv[1:], "stdin", data.strip())
    print("to stderr", file=sys.stderr)
    sys.exit(7)
"""


class Host:
    """A program host process serving PROGRAM on a unix socket."""

    def __init__(self, program: str = PROGRAM) -> None:
        self.dir = short_dir()
        (self.dir / "initial_program.py").write_text(textwrap.dedent(program).lstrip("\n"))
        self.lib = copy_isolation(self.dir)
        self.endpoint = str(self.dir / "h.sock")
        self.faults = str(self.dir / "faults.log")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "glia_isolation.program_host", "--program", "initial_program.py",
             "--listen", self.endpoint, "--accept-timeout", "60"],
            cwd=self.dir, env={**os.environ, "PYTHONPATH": str(self.lib)}, start_new_session=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def module(self, deadline_s: float = 30.0, name: str = "program") -> types.ModuleType:
        module = types.ModuleType(name)
        stand_in(vars(module), self.endpoint, self.faults, time.time() + deadline_s)
        return module

    def fault_lines(self) -> list[str]:
        path = Path(self.faults)
        return path.read_text().splitlines() if path.exists() else []

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def host() -> Iterator[Host]:
    running = Host()
    yield running
    running.close()


def test_plain_data_keeps_its_types(host: Host) -> None:
    program = host.module()
    pair, mapping, a_set, a_frozenset, raw, ints, floats, scalar = program.shapes()
    assert pair == (1, 2.5) and isinstance(pair, tuple)
    assert mapping == {3: "three", (4, 5): [6]}
    assert a_set == {7, 8} and isinstance(a_frozenset, frozenset)
    assert raw == b"\x00\xff"
    assert ints.dtype == np.int64 and ints.tolist() == [0, 1, 2, 3]
    assert floats.dtype == np.float32 and floats.tolist() == [1.0, 1.0, 1.0]
    assert scalar == 1.5
    value = {"nested": [(1, {2: (3,)}), None, True], 5: b"b"}
    assert program.echo(value) == value
    assert program.echo(np.arange(6).reshape(2, 3)).shape == (2, 3)


def test_names_are_live_and_each_import_is_a_fresh_session(host: Host) -> None:
    first = host.module()
    assert first.LIMIT == 10 and first.COUNTER == 0
    assert first.bump() == 1 and first.bump() == 2
    assert first.COUNTER == 2  # read from the program at each use
    assert hasattr(first, "bump") and not hasattr(first, "nothing_here")
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        first.nothing_here  # noqa: B018
    second = host.module()
    assert second.bump() == 1  # a second import is a new program instance, as with exec_module
    assert first.bump() == 3


def test_remote_objects(host: Host) -> None:
    program = host.module()
    box = program.Box([3, 4, 5])
    assert box.label == "box" and box.items == [3, 4, 5]
    assert box.total() == 12 and box.total(scale=2) == 24
    assert box[1] == 4 and repr(box) == "Box([3, 4, 5])" and str(box) == "Box([3, 4, 5])"
    assert list(iter(box)) == [3, 4, 5] and [item for item in box] == [3, 4, 5]
    box.label = "changed"
    assert box.label == "changed"
    assert list(program.count_to(4)) == [0, 1, 4, 9]
    with pytest.raises(AttributeError):
        box.__array_interface__  # noqa: B018 - never taken from the program: numpy would read that address
    assert program.echo(box).total() == 12  # a remote object passed back is the same object there
    assert program.echo(box) == box  # the same object: decided here, by reference, not by the program
    assert (
        host.fault_lines() == []
    )  # comparisons, len() and `in` are refused: tests/security/test_program_objects.py


def test_functions_passed_to_the_program_can_be_called_back(host: Host) -> None:
    program = host.module()
    assert program.call_back(lambda v: v * 10, 4) == 41
    with pytest.raises(TypeError, match="cannot be passed to the program"):
        program.echo(object())
    assert any("cannot be passed to the program" in line for line in host.fault_lines())  # Glia's refusal


def test_exceptions_are_raised_as_the_programs(host: Host) -> None:
    program = host.module()
    with pytest.raises(ValueError, match="bad value"):
        program.fail("value")
    with pytest.raises(ProgramError, match="Custom: custom trouble"):
        program.fail("custom")
    assert program.bump() == 1 and host.fault_lines() == []  # the program's exceptions are not faults


def test_threads_share_the_session(host: Host) -> None:
    program = host.module()
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.extend(program.bump() for _ in range(20))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == list(range(1, 81))


def test_an_interrupted_call_leaves_the_program_usable(host: Host) -> None:
    """An evaluator's own timeout (a signal raising in the middle of a call) is its business."""
    program = host.module()
    program.bump()

    def timeout(signum, frame):
        raise TimeoutError("evaluator's own timeout")

    previous = signal.signal(signal.SIGALRM, timeout)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(TimeoutError):
            program.slow(5)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert program.bump() == 2  # a new connection, the same program instance
    assert host.fault_lines() == []


def test_run_as_a_script_relays_arguments_input_output_and_exit_code(host: Host, tmp_path: Path) -> None:
    stub = tmp_path / "initial_program.py"
    stub.write_text(
        f"import sys as _glia_sys\n_glia_sys.path.insert(0, {str(host.lib)!r})\n"
        "from glia_isolation.program_proxy import stand_in as _glia_stand_in\n"
        f"_glia_stand_in(globals(), {host.endpoint!r}, {host.faults!r}, {time.time() + 30!r})\n"
    )
    result = subprocess.run(
        [sys.executable, str(stub), "a", "b c"],
        input="some input\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 7
    assert "args ['a', 'b c'] stdin some input" in result.stdout
    assert "to stderr" in result.stderr
    flood = subprocess.run([sys.executable, str(stub), "flood"], capture_output=True, timeout=120)
    assert flood.returncode == 1
    assert b"wrote more than" in flood.stderr
    assert any("wrote more than" in line for line in host.fault_lines())


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("leave", "SystemExit"),
        ("crash", "its process ended or crashed"),
        ("flood", "over the limit"),
    ],
)
def test_failures_of_the_program_are_faults(call: str, message: str) -> None:
    running = Host()
    try:
        program = running.module()
        with pytest.raises(ProgramFailed, match=message):
            getattr(program, call)()
        assert any(message in line for line in running.fault_lines()), running.fault_lines()
        with pytest.raises(ProgramFailed):
            program.bump()  # a failed program stays failed
    finally:
        running.close()


def test_a_hanging_program_is_stopped_by_the_deadline(host: Host) -> None:
    program = host.module(deadline_s=2.0)
    started = time.monotonic()
    with pytest.raises(ProgramFailed, match="time limit"):
        program.hang()
    assert time.monotonic() - started < 5
    assert any("time limit" in line for line in host.fault_lines())


def test_a_host_that_is_not_there_is_a_fault(tmp_path: Path) -> None:
    module = types.ModuleType("program")
    with pytest.raises(ProgramFailed, match="could not be reached"):
        stand_in(vars(module), str(short_dir() / "none.sock"), str(tmp_path / "f.log"), time.time() + 0.5)
    assert "could not be reached" in (tmp_path / "f.log").read_text()


def test_malformed_answers_are_faults(tmp_path: Path) -> None:
    """A host that answers with forged tags or garbage breaks nothing in the core."""
    from glia.isolation.channel import Channel, listen
    from glia.isolation.program_proxy import SessionLink

    endpoint = str(short_dir() / "evil.sock")
    server = listen(endpoint)

    def serve() -> None:
        connection, _ = server.accept()
        channel = Channel(connection, {"open": lambda *a: [["f", {"~": "ref", "side": "h", "id": 1, "type": "x", "callable": True}]],
                                       "call": lambda *a: {"~": "ref", "side": "c", "id": 999, "type": "x", "callable": True}})  # fmt: skip
        with contextlib.suppress(Exception):
            channel.serve()

    threading.Thread(target=serve, daemon=True).start()
    module = types.ModuleType("program")
    stand_in(vars(module), endpoint, str(tmp_path / "f.log"), time.time() + 10)
    with pytest.raises(ProgramFailed, match="malformed value"):
        module.f()  # a reference to a core function that was never passed
    assert isinstance(module.__glia_link__, SessionLink)
    server.close()
