"""The harness in the core and the program in its own folder: evaluator styles, results, hostile programs.

Each test builds a problem's template with `load_problem`, then runs the trusted side as Glia does,
with local processes in place of the two sandboxes (the Docker tests do the same in containers).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from glia.problems import load_problem
from tests.problems.support import SIMPLE_PROGRAM, make_problem, run_harness

SUBPROCESS_EVALUATOR = '''
import os, pickle, subprocess, sys, tempfile

def evaluate(program_path):
    # The pattern of many OpenEvolve evaluators: import the program in a child process, pickle its result.
    results = tempfile.mktemp(suffix=".pkl")
    script = f"""
import importlib.util, pickle
spec = importlib.util.spec_from_file_location("program", {program_path!r})
program = importlib.util.module_from_spec(spec)
spec.loader.exec_module(program)
with open({results!r}, "wb") as handle:
    pickle.dump(program.solve(3), handle)
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    with open(results, "rb") as handle:
        value = pickle.load(handle)
    # ... and the pattern of judges that run the file as a script and read its output
    run = subprocess.run([sys.executable, program_path, "7"], input="stdin text", capture_output=True, text=True, timeout=60)
    return {"combined_score": float(value), "script_said": run.stdout.strip(), "script_exit": run.returncode}
'''
SCRIPT_PROGRAM = """
import sys

def solve(n):
    return n * 10

if __name__ == "__main__":
    print(int(sys.argv[1]) * 2, sys.stdin.read())
    sys.exit(3)
"""

RESULT_EVALUATOR = """
import importlib.util
from openevolve.evaluation_result import EvaluationResult

def evaluate(program_path):
    spec = importlib.util.spec_from_file_location("program", program_path)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    value = program.solve(3)
    return EvaluationResult(
        metrics={"combined_score": value / 10, "raw": value, "error": "none", "flag": True},
        artifacts={"log": "line one\\nline two", "blob": b"\\x00binary", "huge": "z" * 200000},
    )
"""
FAKE_OPENEVOLVE = {
    "openevolve/__init__.py": "",
    "openevolve/evaluation_result.py": """
        from dataclasses import dataclass, field

        @dataclass
        class EvaluationResult:
            metrics: dict
            artifacts: dict = field(default_factory=dict)
        """,
}

TIMEOUT_EVALUATOR = """
import importlib.util, signal

class EvaluatorTimeout(Exception):
    pass

def _alarm(signum, frame):
    raise TimeoutError("the program took too long")

def evaluate(program_path):
    spec = importlib.util.spec_from_file_location("program", program_path)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(1)
    try:
        value = program.solve(3)
    except TimeoutError as exc:
        return {"combined_score": 0.0, "error": str(exc)}
    finally:
        signal.alarm(0)
    return {"combined_score": float(value)}
"""

SECRET = "the-hidden-answer-31337"
PRYING_EVALUATOR = f'''
import importlib.util, json

HIDDEN = {{"answer": "{SECRET}"}}

def evaluate(program_path):
    with open("answers.json") as handle:
        expected = json.load(handle)
    spec = importlib.util.spec_from_file_location("program", program_path)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    seen = program.pry(3)
    return {{"combined_score": 1.0, "seen": json.dumps(seen)}}
'''
PRYING_PROGRAM = """
import os, sys, gc

def pry(n):
    found = {"cwd": sorted(os.listdir(".")), "argument": n}
    # Only the channel is tested here: these folders sit side by side on one machine. The Docker tests
    # show that the design sandbox cannot reach the core's files at all.
    for name in ("evaluator.py", "answers.json"):
        try:
            found[name] = open(name).read()
        except OSError as exc:
            found[name] = type(exc).__name__
    frames, frame = [], sys._getframe()
    while frame is not None:
        frames.append(sorted(k for k in frame.f_globals if not k.startswith("__")))
        frame = frame.f_back
    found["frames"] = frames
    found["objects"] = [repr(o)[:200] for o in gc.get_objects() if isinstance(o, dict) and "answer" in o][:5]
    return found
"""


def template_of(tmp_path: Path, evaluator: str, files: dict[str, str] | None = None) -> Path:
    return load_problem(make_problem(tmp_path / "problem", evaluator=evaluator, files=files)).simulator


def test_plain_evaluator_and_the_core_never_holds_the_program(tmp_path: Path) -> None:
    run = run_harness(template_of(tmp_path, evaluator=open_default()), SIMPLE_PROGRAM)
    assert run.summary is not None, run.harness.stderr
    assert run.summary["valid"] is True and run.summary["error"] is None
    assert run.summary["combined_score"] == 4.0 and run.summary["doubled"] == 8.0
    assert run.summary["objective_source"] == "evaluator"
    assert not (run.core / "initial_program.py").exists()
    assert sorted(p.name for p in run.design.iterdir() if p.name != "__pycache__") == [
        ".glia",
        "initial_program.py",
    ]
    assert run.harness.returncode == 0 and run.host_code == 0  # the harness told the host to stop


def open_default() -> str:
    from tests.problems.support import SIMPLE_EVALUATOR

    return SIMPLE_EVALUATOR


def test_subprocess_and_script_style_evaluators(tmp_path: Path) -> None:
    run = run_harness(template_of(tmp_path, SUBPROCESS_EVALUATOR), SCRIPT_PROGRAM)
    assert run.summary is not None and run.summary["valid"], run.summary or run.harness.stderr
    assert run.summary["combined_score"] == 30.0
    assert run.summary["script_exit"] == 3.0
    assert run.summary["metrics_text"]["script_said"] == "14 stdin text"


def test_evaluation_result_metrics_and_artifacts(tmp_path: Path) -> None:
    run = run_harness(template_of(tmp_path, RESULT_EVALUATOR), SIMPLE_PROGRAM, core_extra=FAKE_OPENEVOLVE)
    summary = run.summary
    assert summary is not None and summary["valid"], summary or run.harness.stderr
    assert summary["combined_score"] == 0.4 and summary["raw"] == 4.0 and summary["flag"] is True
    assert summary["metrics_text"] == {"error": "none"}
    assert summary["artifacts"]["log"] == "line one\nline two"
    assert summary["artifacts"]["blob"] == "\x00binary"
    assert len(summary["artifacts"]["huge"]) < 70_000 and "more characters" in summary["artifacts"]["huge"]


def test_missing_objective_is_the_mean_of_numeric_metrics(tmp_path: Path) -> None:
    evaluator = 'def evaluate(program_path):\n    return {"a": 1.0, "b": 3, "ok": True, "note": "x"}\n'
    run = run_harness(template_of(tmp_path, evaluator), SIMPLE_PROGRAM)
    assert run.summary is not None and run.summary["valid"]
    assert run.summary["mean_of_metrics"] == 2.0 and run.summary["objective_source"] == "average"
    assert "combined_score" not in run.summary  # a mean Glia computes is labelled as such


@pytest.mark.parametrize(
    ("evaluator", "message"),
    [
        ("def evaluate(program_path):\n    raise KeyError('broken')\n", "evaluate() raised KeyError"),
        ("def evaluate(program_path):\n    return [1, 2]\n", "returned a list, not a dict of metrics"),
        (
            "def evaluate(program_path):\n    return {'combined_score': float('nan')}\n",
            "combined_score = nan",
        ),
    ],
)
def test_evaluator_failures_are_invalid_with_the_reason(tmp_path: Path, evaluator: str, message: str) -> None:
    run = run_harness(template_of(tmp_path, evaluator), SIMPLE_PROGRAM)
    assert run.summary is not None and run.summary["valid"] is False
    assert message in run.summary["error"]


def test_the_evaluators_own_timeout_still_works(tmp_path: Path) -> None:
    slow = "import time\n\ndef solve(n):\n    time.sleep(4)\n    return 99\n"
    run = run_harness(template_of(tmp_path, TIMEOUT_EVALUATOR), slow, time_limit=30)
    assert run.summary is not None and run.summary["valid"] is True, run.summary
    assert run.summary["combined_score"] == 0.0
    assert run.summary["metrics_text"]["error"] == "the program took too long"


HOSTILE = {
    "exits": ("import sys\n\ndef solve(n):\n    sys.exit(0)\n", "SystemExit"),
    "crashes": ("import os\n\ndef solve(n):\n    os._exit(1)\n", "ended or crashed"),
    "hangs": ("import time\n\ndef solve(n):\n    time.sleep(3600)\n", "time limit"),
    "floods": ("def solve(n):\n    return b'x' * (40 * 2**20)\n", "over the limit"),
    "breaks at import": ("raise SystemExit(2)\n", "SystemExit"),
}
SWALLOWING_EVALUATOR = """
import importlib.util

def evaluate(program_path):
    # An evaluator that forgives everything: the program's failure must still make the run invalid.
    try:
        spec = importlib.util.spec_from_file_location("program", program_path)
        program = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(program)
        return {"combined_score": float(len(str(program.solve(3))))}
    except BaseException as exc:
        return {"combined_score": 0.5, "error": repr(exc)}
"""


@pytest.mark.parametrize("behaviour", sorted(HOSTILE))
def test_hostile_programs_make_the_evaluation_invalid(tmp_path: Path, behaviour: str) -> None:
    program, message = HOSTILE[behaviour]
    run = run_harness(template_of(tmp_path, SWALLOWING_EVALUATOR), program, time_limit=4)
    assert run.summary is not None, run.harness.stderr
    assert run.summary["valid"] is False and message in run.summary["error"], run.summary
    assert run.summary["error"].startswith("the program failed")


def test_the_program_sees_only_its_arguments(tmp_path: Path) -> None:
    template = template_of(tmp_path, PRYING_EVALUATOR, files={"answers.json": f'{{"answer": "{SECRET}"}}'})
    run = run_harness(template, PRYING_PROGRAM)
    assert run.summary is not None and run.summary["valid"], run.summary or run.harness.stderr
    seen = run.summary["metrics_text"]["seen"]
    assert SECRET not in seen
    assert '"argument": 3' in seen
    assert '"evaluator.py": "FileNotFoundError"' in seen and '"answers.json": "FileNotFoundError"' in seen


def test_without_a_design_endpoint_nothing_runs(tmp_path: Path) -> None:
    run = run_harness(template_of(tmp_path, open_default()), SIMPLE_PROGRAM, env={"GLIA_DESIGN_ENDPOINT": ""})
    assert run.summary is not None and run.summary["valid"] is False
    assert "GLIA_DESIGN_ENDPOINT is not set" in run.summary["error"]
