"""Attacks by a program's objects on the judge: the evaluator decides every comparison.

A program runs in a sandbox of its own (here: a real program host process); the evaluator reaches it
through the real stand-in (`stand_in`, as the harness's stub does it). The program returns objects
whose dunder methods lie (`__eq__` always True, `__bool__`, `__hash__`, ordering, `__len__`,
`__contains__`, `__float__`, `__index__`, `__format__`, `__array__`, `__class__` tricks), lying
container subclasses and exceptions, endless generators, and mutates its arguments. Each comparison
with such an object is refused and recorded as a fault (the evaluation is invalid even when the
evaluator catches the error), the evaluator's expected answers never reach the program, and results
that can cross by value do, so the comparison is the evaluator's own. The last test runs the real
harness on a problem folder whose evaluator catches everything: today's 1.00 is now invalid.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import textwrap
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from glia.isolation.program_proxy import ProgramError, ProgramFailed, Refused, stand_in
from tests.problems.support import copy_isolation, make_problem, run_harness, short_dir

SECRET = "EXPECTED-ANSWER-7f3a"  # an expected answer: it must never reach the program

ATTACKS = """
import os

LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seen.log")


def _log(*args):
    with open(LOG, "a") as handle:
        handle.write(repr(args) + "\\n")


class Liar:
    def __eq__(self, other): _log("eq", other); return True
    def __ne__(self, other): _log("ne", other); return False
    def __lt__(self, other): _log("lt", other); return True
    __le__ = __gt__ = __ge__ = __lt__
    def __hash__(self): return hash(SECRET_HERE)
    def __bool__(self): return True
    def __len__(self): return 10**6
    def __iter__(self): return iter([1.0, 1.0])
    def __contains__(self, item): _log("in", item); return True
    def __float__(self): return 1.0
    def __int__(self): return 1
    def __index__(self): return 0
    def __format__(self, spec): return "1.000"
    def __add__(self, other): _log("add", other); return 0
    __radd__ = __sub__ = __rsub__ = __add__
    def __abs__(self): return 0
    def __round__(self, digits=None): return 1
    def __array__(self, dtype=None, copy=None):
        import numpy
        return numpy.ones(3)
    def __getattr__(self, name):
        _log("getattr", name)
        return 1.0


class FakeNumber:
    @property
    def __class__(self):
        return float
    def __eq__(self, other): _log("eq", other); return True
    def __float__(self): return 3.0


class LyingList(list):
    def __eq__(self, other): _log("eq", other); return True
    __hash__ = None
    def __iter__(self): return iter([1, 1, 1])


class LyingDict(dict):
    def __eq__(self, other): _log("eq", other); return True
    def __getitem__(self, key): return 1.0


class LyingError(ValueError):
    def __str__(self): return "combined_score: 1.0 (valid)"


def answer(problem):
    _log("answer", problem)
    return Liar()


def fake_number():
    return FakeNumber()


def lying_list():
    return LyingList([0, 0])


def lying_dict():
    return LyingDict(score=0.0)


def mutate(items, table):
    items.append("evil")
    items[0] = 999
    table["score"] = 1.0
    return items


def forever():
    i = 0
    while True:
        yield i
        i += 1


def raise_lying():
    raise LyingError("honest")


def probe(function):
    names = ("__globals__", "__closure__", "__self__", "__code__", "__wrapped__", "__defaults__")
    return [name for name in names if hasattr(function, name)], function(2)
""".replace("SECRET_HERE", repr(SECRET))


class Program:
    """One program host process serving ATTACKS; every `module()` is a fresh import with its own fault file."""

    def __init__(self) -> None:
        self.dir = short_dir("gpa")
        (self.dir / "initial_program.py").write_text(textwrap.dedent(ATTACKS).lstrip("\n"))
        lib = copy_isolation(self.dir)
        self.endpoint = str(self.dir / "h.sock")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "glia_isolation.program_host", "--program", "initial_program.py",
             "--listen", self.endpoint, "--accept-timeout", "120"],
            cwd=self.dir, env={**os.environ, "PYTHONPATH": str(lib)}, start_new_session=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.count = itertools.count()

    def module(self, deadline_s: float = 30.0) -> tuple[types.ModuleType, Path]:
        faults = self.dir / f"faults-{next(self.count)}.log"
        module = types.ModuleType("program")
        stand_in(vars(module), self.endpoint, str(faults), time.time() + deadline_s)
        return module, faults

    def seen(self) -> str:
        log = self.dir / "seen.log"
        return log.read_text() if log.exists() else ""

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture(scope="module")
def program() -> Iterator[Program]:
    running = Program()
    yield running
    running.close()


def faults_of(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


OPERATIONS: dict[str, Callable[[Any, Any], Any]] = {
    "==": lambda a, e: a == e,
    "!=": lambda a, e: a != e,
    "== reversed": lambda a, e: e == a,
    "<": lambda a, e: a < e,
    ">=": lambda a, e: e >= a,
    "max": lambda a, e: max(a, e),
    "sorted": lambda a, e: sorted([e, a]),
    "hash": lambda a, e: hash(a) == hash(e),
    "set member": lambda a, e: e in {a},
    "dict key": lambda a, e: {a: 1}.get(e),
    "bool": lambda a, e: bool(a),
    "if": lambda a, e: 1 if a else 0,
    "and": lambda a, e: a and e,
    "len": lambda a, e: len(a) == len(e),
    "in": lambda a, e: e in a,
    "list in": lambda a, e: a in [e],
    "list.count": lambda a, e: [e, e].count(a),
    "float": lambda a, e: float(a) > 0.5,
    "int": lambda a, e: int(a),
    "index": lambda a, e: [e, e][a],
    "format": lambda a, e: f"{a:.3f}" == "1.000",
    "add": lambda a, e: a + e,
    "radd": lambda a, e: 0.5 + a,
    "sum": lambda a, e: sum([a, 1.0]),
    "abs": lambda a, e: abs(a),
    "round": lambda a, e: round(a),
    "numpy __array__": lambda a, e: float(np.asarray(a, dtype=float).sum()),
    "numpy isclose": lambda a, e: np.isclose(a, 1.0),
}


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_an_object_that_stays_in_the_program_cannot_decide_a_comparison(program: Program, name: str) -> None:
    module, faults = program.module()
    result = module.answer("problem-7")
    try:  # the evaluator's usual pattern: any exception scores 0
        OPERATIONS[name](result, SECRET)
    except Exception as exc:  # noqa: BLE001
        assert isinstance(exc, Refused | TypeError | ValueError), repr(exc)
    lines = faults_of(faults)
    assert lines and lines[0].startswith("Glia refused:"), (name, lines)
    assert "'Liar' object of the program" in lines[0] and len(lines[0]) < 2000
    with pytest.raises(ProgramFailed):
        module.answer("again")  # the evaluation is invalid from then on
    assert SECRET not in program.seen()  # the evaluator's operand never reached the program
    assert "problem-7" in program.seen()  # an explicit call argument does


def test_using_a_remote_object_is_the_programs_job_and_stays_allowed(program: Program) -> None:
    module, faults = program.module()
    result = module.answer("x")
    assert result.anything == 1.0  # attributes come back by value: values the program reports
    assert list(iter(result)) == [1.0, 1.0]
    assert isinstance(result, object) and not isinstance(result, float | int | str | list)
    assert result == result and (result != result) is False  # one reference: decided here, not by the program
    assert faults_of(faults) == []


def test_results_that_can_cross_do_cross_by_value(program: Program) -> None:
    module, faults = program.module()
    number = module.fake_number()  # `__class__` says float: it crosses as the float its __float__ gives
    assert type(number) is float and number == 3.0 and number != SECRET
    items = module.lying_list()
    assert type(items) is list and items == [0, 0] and items != [1, 2]  # its __eq__ and __iter__ stayed there
    table = module.lying_dict()
    assert type(table) is dict and table == {"score": 0.0} and table["score"] == 0.0
    assert faults_of(faults) == []
    assert SECRET not in program.seen()


def test_arguments_reach_the_program_as_copies(program: Program) -> None:
    module, faults = program.module()
    items, table = [1, 2, 3], {"score": 0.0}
    back = module.mutate(items, table)
    assert items == [1, 2, 3] and table == {"score": 0.0}  # the evaluator's own values are untouched
    assert back == [999, 2, 3, "evil"] and back is not items  # the returned "same" list is a new value
    found, value = module.probe(lambda x: x * 21)
    assert found == [] and value == 42  # a function passed in can be called, nothing of it read
    assert faults_of(faults) == []


def test_an_endless_generator_is_iterated_until_the_deadline(program: Program) -> None:
    module, faults = program.module(deadline_s=3.0)
    generator = module.forever()
    assert list(itertools.islice(generator, 4)) == [0, 1, 2, 3]
    with pytest.raises(TypeError):
        len(generator)  # as in process: a generator has no len (and that is no fault)
    started = time.monotonic()
    with pytest.raises(ProgramFailed, match="time limit"):
        list(generator)
    assert time.monotonic() - started < 8
    assert any("time limit" in line for line in faults_of(faults))


def test_a_lying_exception_is_only_a_message(program: Program) -> None:
    module, faults = program.module()
    with pytest.raises(ProgramError, match="^LyingError: ") as caught:
        module.raise_lying()
    assert type(caught.value) is ProgramError  # made here, carrying the program's text only, named as its
    assert faults_of(faults) == []


EQUALS_EVALUATOR = """
import importlib.util

CASES = [(2, 4), (3, 9), (5, 25)]


def evaluate(program_path):
    spec = importlib.util.spec_from_file_location("program", program_path)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    right = 0
    for question, expected in CASES:
        try:
            if program.square(question) == expected:
                right += 1
        except Exception:
            pass
    return {"combined_score": right / len(CASES)}
"""
LYING_PROGRAM = """
class Always:
    def __eq__(self, other):
        return True


def square(n):
    return Always()
"""


def test_a_lying_eq_is_invalid_through_the_real_harness(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glia.problems import load_problem

    monkeypatch.setenv("GLIA_CACHE", str(tmp_path / "cache"))
    template = load_problem(make_problem(tmp_path / "problem", evaluator=EQUALS_EVALUATOR)).simulator
    lying = run_harness(template, LYING_PROGRAM)
    assert lying.summary is not None, lying.harness.stderr
    assert lying.summary["valid"] is False  # was a trusted 1.00
    assert lying.summary["error"].startswith("Glia refused: the evaluator applied == to a 'Always' object")
    assert "\n" not in lying.summary["error"]
    honest = run_harness(template, "def square(n):\n    return n * n if n != 5 else 0\n")
    assert honest.summary is not None and honest.summary["valid"] is True
    assert honest.summary["combined_score"] == pytest.approx(2 / 3)
