"""A hostile OpenEvolve cascade evaluator: its stage metrics, error text and artifacts are data, never
Glia's voice, and never a wrong verdict.

The problem folder is written here (every byte of a problem folder is hostile input). Its stages return
terminal escape sequences, Markdown and HTML, huge strings and bytes, NaN and infinity, a metric named
by an attack, objects whose `repr` is an attack or raises, exceptions whose message is an attack or
cannot be printed, and metrics or artifacts in a mapping whose own iteration raises. What must hold: the
verdict is what the numbers say (a NaN or infinite objective, a raising stage or an unreadable answer:
invalid, with the stage named in one line); every text Glia keeps is capped; the stored
`summary.json` is strict ASCII JSON; `glia bench` prints it as inert text on Glia's own lines.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glia.problems import load_problem
from tests.problems.support import run_harness, write
from tests.security.hostile_text import TERMINAL_ATTACK, terminal_leftovers

MAX_TEXT = 2000  # glia/problems/support/outcome.py: the cap of a text metric and of the error
MAX_ARTIFACT = 64 * 1024

EVALUATOR = f"""
import importlib.util
import math
from collections.abc import Mapping

ATTACK = {TERMINAL_ATTACK!r}
MARKDOWN = "## Result\\n\\n**Best trusted score: 99**\\n<img src=x onerror=alert(1)> [x](http://evil.example)\\n```"


class Spoof:
    def __repr__(self):
        return ATTACK * 500


class Unprintable:
    def __repr__(self):
        raise RuntimeError(ATTACK)

    __str__ = __repr__


class LoudError(Exception):
    def __str__(self):
        raise ValueError(ATTACK)


class Unreadable(Mapping):  # a mapping whose own iteration raises the attack: dict() of it fails
    def __getitem__(self, key):
        raise KeyError(ATTACK)

    def __len__(self):
        return 1

    def __iter__(self):
        raise RuntimeError(ATTACK * 100)


class Result:  # an EvaluationResult-like answer: metrics plus artifacts
    def __init__(self, metrics, artifacts):
        self.metrics, self.artifacts = metrics, artifacts


def _mode(path):
    spec = importlib.util.spec_from_file_location("program", path)
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    return program.mode()


def evaluate(path):
    return {{"combined_score": -1.0}}  # a placeholder: the cascade's stages are what OpenEvolve runs


def evaluate_stage1(path):
    mode = _mode(path)
    score = 0.25 if mode == "stop" else 0.75
    return {{
        "combined_score": score, ATTACK: 1.0, "error": ATTACK * 1000, "markdown": MARKDOWN,
        "nan_metric": math.nan, "inf_metric": -math.inf, "object": Spoof(), "unprintable": Unprintable(),
    }}


def evaluate_stage2(path):
    mode = _mode(path)
    if mode == "raise":
        raise RuntimeError(ATTACK * 100)
    if mode == "loud":
        raise LoudError()
    if mode == "nan":
        return {{"combined_score": math.nan, "error": ATTACK}}
    if mode == "unreadable":
        return Unreadable()
    if mode == "unreadable_artifacts":
        return Result({{"combined_score": 0.9}}, Unreadable())
    if mode == "inf":
        return Result({{"combined_score": math.inf}}, {{ATTACK: ATTACK}})
    return Result(
        {{"combined_score": 0.85, "stage2": True, "error": ATTACK}},
        {{ATTACK * 10: ATTACK * 10000, "bytes": b"\\x1b[2J\\x1b]52;c;ZXZpbA==\\x07" * 100000, "object": Spoof(),
          "unprintable": Unprintable(), "markdown": MARKDOWN}},
    )
"""
CONFIG = "evaluator:\n  cascade_thresholds: [0.5]\n"


def program(mode: str) -> str:
    return f"# EVOLVE-BLOCK-START\ndef mode():\n    return {mode!r}\n# EVOLVE-BLOCK-END\n"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    made = tmp_path_factory.mktemp("hostile_cascade")
    return write(
        made, {"evaluator.py": EVALUATOR, "initial_program.py": program("stop"), "config.yaml": CONFIG}
    )


def harness(folder: Path, mode: str) -> tuple[dict, bytes]:
    run = run_harness(load_problem(folder).simulator, program(mode))
    assert run.summary is not None, run.harness.stderr[-3000:]
    stored = (run.core / "out" / "main-0" / "run" / "summary.json").read_bytes()
    return run.summary, stored


def assert_stored_safely(stored: bytes) -> None:
    """Strict JSON (no NaN or Infinity tokens), ASCII only: no byte of it can act on a terminal."""
    assert stored.isascii() and b"\x1b" not in stored and b"\x07" not in stored
    json.loads(stored, parse_constant=lambda token: pytest.fail(f"{token} in summary.json"))


def assert_capped(texts: dict[str, str], limit: int) -> None:
    for key, text in texts.items():
        assert len(key) <= 100 and len(text) <= limit + 60, (key[:40], len(text))


def test_a_program_stopped_at_stage_one_keeps_its_metrics_as_capped_data(folder: Path) -> None:
    summary, stored = harness(folder, "stop")
    assert summary["valid"] is True, summary["error"]
    assert summary["combined_score"] == 0.25 and summary["objective_source"] == "evaluator"
    assert summary["nan_metric"] is None and summary["inf_metric"] is None  # not a number, never NaN
    assert any("nan_metric is nan" in note for note in summary["notes"])
    assert summary[TERMINAL_ATTACK[:100]] == 1.0  # a hostile metric name is a capped key, nothing more
    texts = summary["metrics_text"]
    assert_capped(texts, MAX_TEXT)
    assert texts["error"].startswith(TERMINAL_ATTACK[:50]) and texts["error"].endswith("more characters]")
    assert texts["object"].startswith(TERMINAL_ATTACK[:50]) and len(texts["object"]) < MAX_TEXT + 60
    assert "unprintable" in texts["unprintable"] and "RuntimeError" in texts["unprintable"]
    assert any("stage 2 not run" in note for note in summary["notes"])
    assert_stored_safely(stored)


def test_a_program_passing_both_stages_gets_the_merged_numbers_and_capped_artifacts(folder: Path) -> None:
    summary, stored = harness(folder, "pass")
    assert summary["valid"] is True, summary["error"]
    assert summary["combined_score"] == 0.85 and summary["stage2"] == 1.0  # OpenEvolve merges numbers
    assert "error" not in summary["metrics_text"]  # a merged cascade keeps numbers only, as OpenEvolve
    artifacts = summary["artifacts"]
    assert_capped(artifacts, MAX_ARTIFACT)
    assert sum(len(text) for text in artifacts.values()) <= 512 * 1024 + 200
    assert artifacts["markdown"].startswith("## Result")  # kept as the evaluator's text, verbatim
    assert "RuntimeError" in artifacts["unprintable"]
    assert_stored_safely(stored)


@pytest.mark.parametrize(
    ("mode", "first_line"),
    [
        ("raise", "cascade stage 2: evaluate_stage2() raised RuntimeError: "),
        ("loud", "cascade stage 2: evaluate_stage2() raised LoudError: <unprintable"),
        ("nan", "the evaluator returned combined_score = nan"),
        ("inf", "the evaluator returned combined_score = inf"),
        (
            "unreadable",
            "cascade stage 2: evaluate_stage2() returned a result that could not be read: RuntimeError: ",
        ),
        (
            "unreadable_artifacts",
            "cascade stage 2: evaluate_stage2() returned a result that could not be read: RuntimeError: ",
        ),
    ],
)
def test_a_failing_or_non_finite_stage_is_invalid_in_one_capped_line(
    folder: Path, mode: str, first_line: str
) -> None:
    summary, stored = harness(folder, mode)
    assert summary["valid"] is False
    assert summary["error"].startswith(first_line), summary["error"][:300]
    assert len(summary["error"]) <= MAX_TEXT
    assert_stored_safely(stored)


@pytest.mark.docker
def test_glia_bench_shows_the_hostile_cascade_as_inert_text(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], workspace_image: str
) -> None:
    """End to end in Docker: the initial program (stopped at stage 1, hostile texts) is the baseline,
    a design whose stage 2 raises the attack is invalid; the console shows Glia's lines only."""
    from glia.cli import main

    design = tmp_path / "raising.py"
    design.write_text(program("raise"))
    root = tmp_path / "root"
    code = main(["bench", str(folder), "--root", str(root), "--image", workspace_image])
    baseline_out = capsys.readouterr().out
    assert code == 0, baseline_out
    code = main(
        ["bench", str(folder), "--root", str(root), "--image", workspace_image, "--design", str(design)]
    )
    design_out = capsys.readouterr().out
    assert code == 1, design_out
    for out in (baseline_out, design_out):
        assert terminal_leftovers(out) == [], out[-2000:]
        assert not any(
            line.lstrip().startswith(("Run finished", "Best trusted score 1.000"))
            for line in out.splitlines()
        )
    assert "0.25" in baseline_out
    [reason] = [line for line in design_out.splitlines() if "is invalid:" in line]
    assert "cascade stage 2: evaluate_stage2() raised RuntimeError" in reason and "\\x1b[1A" in reason
    stored = list(root.rglob("summary.json"))
    assert stored, "no summary.json was kept"
    for path in stored:
        assert_stored_safely(path.read_bytes())


def test_report_md_shows_the_stage_failure_inside_glias_structure(folder: Path, tmp_path: Path) -> None:
    """The invalid verdict's reason, as the harness wrote it, in a run's report.md: the same headings as
    a run rejected for a plain reason, no HTML, link or image of its own, no control character."""
    from glia.report import write_report
    from tests.cli.run_fixtures import ContextPlan, make_run
    from tests.security.test_markdown_voice import all_tokens, assert_no_html_links_or_images, headings, parse

    summary, _ = harness(folder, "raise")
    reports = {}
    for name, reason in (("plain", "cascade stage 2 failed"), ("hostile", summary["error"])):
        plans = {1: ContextPlan([47.0, 40.0], trusted=41.0), 2: ContextPlan([46.0, 44.0], rejected=reason)}
        run_dir = make_run(tmp_path / name, "md", "finished", "mcg-par", 2, plans)
        run = json.loads((run_dir / "run.json").read_text())
        run["contexts"][1]["error"] = reason
        (run_dir / "run.json").write_text(json.dumps(run))
        reports[name] = write_report(run_dir)[0].read_text()
    tokens = parse(reports["hostile"])
    assert headings(tokens) == headings(parse(reports["plain"]))
    assert_no_html_links_or_images(tokens, allowed_images=("progress.png",))
    assert terminal_leftovers(reports["hostile"]) == []
    shown = "".join(t.content for t in all_tokens(tokens) if t.type in ("text", "code_inline"))
    assert "cascade stage 2: evaluate_stage2() raised RuntimeError" in shown
