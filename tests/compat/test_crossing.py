"""Problem folders of our own whose evaluators cross values with the program: Glia's trusted score is
the score of the folder's evaluator run directly, and a failure Glia causes is invalid, never a 0.

* `sibling_module/`: the program imports `helper_sim` from its own folder and returns its dataclass.
* `dataclass_args/`: the evaluator passes instances of its own dataclass, enum and named tuple.
* `crossing_unpassable/`: the evaluator passes a lock, which cannot cross; it catches every exception.
* `crossing_data_file/`: the program reads a data file of its folder (never shipped): `glia bench` stops.

The trusted side runs as Glia runs it (the real harness in a core folder, the real program host in a
design folder holding what Glia ships there), as local processes; the last test runs `glia bench` in
real Docker sandboxes (one bench: its faithfulness check and the shipping of a sibling module).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from glia.problems import load_problem
from glia.problems.siblings import design_sandbox_modules
from glia.workspace.tree import tree_from_folder
from tests.problems.support import run_harness

FOLDERS = Path(__file__).resolve().parent / "folders"
DIRECT = """
import importlib.util, json, sys
sys.path.insert(0, ".")
spec = importlib.util.spec_from_file_location("evaluation_module", "evaluator.py")
module = importlib.util.module_from_spec(spec)
sys.modules["evaluation_module"] = module
spec.loader.exec_module(module)
print(json.dumps(module.evaluate("initial_program.py")))
"""


def direct_score(folder: Path) -> dict:
    """The folder's evaluator on its initial program, in process, as its user would run it."""
    done = subprocess.run(
        [sys.executable, "-c", DIRECT], cwd=folder, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def trusted(folder: Path, cache: Path, *, ship: bool = True):
    """Glia's trusted evaluation of the folder's initial program, with what Glia ships beside it."""
    template = load_problem(folder).simulator
    program = (folder / "initial_program.py").read_text()
    shipped = (
        design_sandbox_modules(tree_from_folder(template), {"initial_program.py": program}) if ship else {}
    )
    run = run_harness(template, program, design_extra={path: entry.data for path, entry in shipped.items()})
    assert run.summary is not None, run.harness.stderr
    return run.summary, sorted(shipped)


@pytest.fixture(autouse=True)
def glia_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GLIA_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.mark.parametrize("name", ["sibling_module", "dataclass_args"])
def test_the_trusted_score_is_the_evaluators_own(name: str, glia_cache: Path) -> None:
    folder = FOLDERS / name
    expected = direct_score(folder)
    assert expected["combined_score"] > 0 and "error" not in expected
    summary, shipped = trusted(folder, glia_cache)
    assert summary["valid"] is True, summary["error"]
    assert summary["combined_score"] == pytest.approx(expected["combined_score"])
    assert "evaluator.py" not in shipped  # the judge stays with the judge
    assert shipped == (["helper_sim.py"] if name == "sibling_module" else [])


def test_a_failure_glia_causes_is_invalid_with_its_cause_in_one_line(glia_cache: Path) -> None:
    unshipped, _ = trusted(FOLDERS / "sibling_module", glia_cache, ship=False)  # as before this fix
    assert (
        unshipped["valid"] is False and unshipped["combined_score"] == 0.0
    )  # the evaluator's 0 is not trusted
    assert "a module it imports is missing in its sandbox" in unshipped["error"]
    assert "helper_sim" in unshipped["error"] and "\n" not in unshipped["error"]
    assert direct_score(FOLDERS / "crossing_unpassable")["combined_score"] == 6.0
    refused, _ = trusted(FOLDERS / "crossing_unpassable", glia_cache)
    assert refused["valid"] is False
    assert refused["error"].startswith("Glia refused: a _thread.lock cannot be passed to the program")
    assert "\n" not in refused["error"]


@pytest.mark.docker
def test_glia_bench_checks_that_isolation_is_faithful(tmp_path: Path, capsys, workspace_image: str) -> None:
    """On setup the initial program is scored in process and isolated: a folder whose program reads a
    data file of the folder (absent from its sandbox; its evaluator turns the error into 0) is stopped.
    Its sibling module `scoring.py` is shipped (else the isolated side would be invalid, not 0)."""
    from glia.cli import main

    assert direct_score(FOLDERS / "crossing_data_file")["combined_score"] == 5.0
    code = main(
        ["bench", str(FOLDERS / "crossing_data_file"), "--root", str(tmp_path), "--image", workspace_image]
    )
    out = " ".join(capsys.readouterr().out.split())
    assert code == 2, out
    assert (
        "glia bench stopped: the initial program (initial_program.py) scores 5 when the evaluator runs it"
        in out
    )
    assert "but 0 isolated" in out and "fix:" in out  # 0, not "invalid: a module ... is missing"


def test_a_package_missing_at_run_time_names_the_requirement_to_add(glia_cache: Path, tmp_path: Path) -> None:
    """A package imported only when the code runs (no setup check sees it) is invalid, never a 0, and
    the one-line error says which requirement to add, and where: the program's side and the evaluator's."""
    folder = FOLDERS / "missing_package"
    program = (folder / "initial_program.py").read_text()
    fix = "to the folder's requirements.txt (a task file: its `requirements` field)"
    program_side = run_harness(load_problem(folder).simulator, program).summary
    assert program_side is not None and program_side["valid"] is False  # the evaluator's 0 is not trusted
    assert "No module named 'cv2'" in program_side["error"]
    assert program_side["error"].endswith(f"fix: add `opencv-python` {fix}")
    assert "\n" not in program_side["error"]
    copy = Path(shutil.copytree(folder, tmp_path / "judge_side"))
    (copy / "glia.yaml").write_text("entry: evaluate_with_report\n")
    judge_side = run_harness(load_problem(copy).simulator, program).summary
    assert judge_side is not None and judge_side["valid"] is False
    first_line = judge_side["error"].splitlines()[0]
    assert first_line.startswith(
        "evaluate_with_report() raised ModuleNotFoundError: No module named 'sklearn'"
    )
    assert first_line.endswith(f"fix: add `scikit-learn` {fix}")


def test_the_simulators_own_package_deeper_in_the_folder_reaches_the_program(glia_cache: Path) -> None:
    """`nested_package/`: the program imports `fleet`, a package of the folder's `simulator/` project
    (ADRS cant-be-late-multi imports `sky_spot` so): the program's sandbox gets it beside the program,
    and the trusted score is the evaluator's own; without it the run is invalid, never the evaluator's 0."""
    folder = FOLDERS / "nested_package"
    expected = direct_score(folder)
    assert expected == {"runs_successfully": 1.0, "combined_score": -48.0}
    summary, shipped = trusted(folder, glia_cache)
    assert summary["valid"] is True, summary["error"]
    assert summary["combined_score"] == expected["combined_score"]
    assert shipped == ["fleet/__init__.py", "fleet/kinds.py", "fleet/prices.py"]  # not simulate.py
    unshipped, _ = trusted(folder, glia_cache, ship=False)
    assert unshipped["valid"] is False and "No module named 'fleet'" in unshipped["error"]


JAX_LIKE_PROGRAM = """
import sys
import types

import numpy as np

# A stand-in for the real jax package (600 MB): its `Array` type, which numpy reads through __array__.
jax = types.ModuleType("jax")


class Array:
    def __init__(self, values):
        self._values = np.asarray(values, dtype=np.float32)

    def __array__(self, dtype=None, copy=None):
        return self._values if dtype is None else self._values.astype(dtype)

    def __float__(self):
        return float(self._values)

    @property
    def shape(self):
        return self._values.shape


jax.Array = Array
sys.modules["jax"] = jax


# EVOLVE-BLOCK-START
def run():
    values = Array([0.0, 1.0, 2.0, 1.0])
    return np.asarray(values), Array(1.5), 4  # alphaevolve_math_problems: the loss is a jax scalar
# EVOLVE-BLOCK-END
"""

JAX_LIKE_EVALUATOR = """
import importlib.util


def evaluate(program_path):
    spec = importlib.util.spec_from_file_location("program", program_path)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    values, loss, n = program.run()
    return {"combined_score": float(loss) + float(values.sum()) / n, "loss_shape": len(loss.shape)}
"""


def test_a_jax_array_the_program_returns_crosses_as_its_values(tmp_path: Path) -> None:
    """OpenEvolve's alphaevolve_math_problems programs return their loss as a JAX array, on which the
    evaluator calls float(): it crosses as the numpy array of its values (was: refused, the evaluation
    invalid). Only a numeric array crosses; what the program returns is its own value either way."""
    from tests.problems.support import write

    folder = write(
        tmp_path / "jax_like", {"initial_program.py": JAX_LIKE_PROGRAM, "evaluator.py": JAX_LIKE_EVALUATOR}
    )
    expected = direct_score(folder)
    assert expected == {"combined_score": 2.5, "loss_shape": 0}
    summary, _ = trusted(folder, tmp_path / "cache")
    assert summary["valid"] is True, summary["error"]
    assert summary["combined_score"] == 2.5 and summary["loss_shape"] == 0.0
