"""The Researcher's benchmark: `python glia_benchmark.py [--program FILE] [--seed N] [--param key=value]`.

It evaluates the program with the problem's own evaluator, in this process (fast feedback; this is the
Researcher's own sandbox), prints the metrics, and writes `summary.json` (plus any artifacts) into a new
folder under the results folder. Each run is reported to Glia's ledger first and counts against the
run's budget; when the budget is spent the run is refused and nothing is evaluated.

A run is a *benchmark run* (a claim Glia ranks) when it evaluates the design file with the task's
benchmark seed and parameters and the problem's other files are unchanged; anything else is an
experiment, recorded but never ranked. Scores here are claims: Glia's trusted evaluation re-scores the
program text in a sandbox of its own, with seeds it keeps to itself.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Any

from .ledger import LedgerRefused, Report
from .missing import requirement_hint
from .outcome import Outcome, Watchdog, call_arguments, evaluate, load_entry, write_summary
from .settings import ProblemSettings, parse_param


def problem_state(folder: Path, settings: ProblemSettings) -> str:
    """ "pristine" when every file of the problem as Glia shipped it is unchanged, else "modified"."""
    for relpath, digest in settings.pristine.items():
        try:
            data = (folder / relpath).read_bytes()
        except OSError:
            return "modified"
        if hashlib.sha256(data).hexdigest() != digest:
            return "modified"
    return "pristine"


def conditions(
    folder: Path, settings: ProblemSettings, program: str, seed: int | None, params: dict[str, Any]
) -> dict[str, Any]:
    """What makes this run comparable: the program evaluated, the problem's files, seed, parameters."""
    found: dict[str, Any] = {"program": program, "problem_files": problem_state(folder, settings)}
    if settings.seed_argument:
        found["seed"] = seed
    for key, value in params.items():
        found[f"param.{key}"] = value
    return found


def main(argv: list[str] | None = None) -> int:
    folder = Path(__file__).resolve().parents[1]
    settings = ProblemSettings.load(Path(__file__).resolve().parent)
    parser = argparse.ArgumentParser(prog="python glia_benchmark.py", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--program", default=settings.program, help=f"program to evaluate (default {settings.program})"
    )
    if settings.seed_argument:
        parser.add_argument("--seed", type=int, default=settings.benchmark_seed, help="the evaluator's seed")
    parser.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE", help="an evaluator argument"
    )
    args = parser.parse_args(argv)
    params = dict(settings.benchmark_params)
    try:
        params.update(parse_param(text) for text in args.param)
    except ValueError as exc:
        parser.error(str(exc))
    program = Path(args.program)
    if not (folder / program).is_file() and not program.is_file():
        parser.error(f"no program file {args.program}")
    relpath = os.path.relpath((folder / program).resolve(), folder)
    seed = getattr(args, "seed", None)
    run_dir = folder / settings.results_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    report = Report()
    try:
        number = report.start(
            conditions(folder, settings, relpath, seed, params), str(run_dir.relative_to(folder))
        )
    except LedgerRefused as exc:
        print(f"glia_benchmark: {exc}", file=sys.stderr)
        return 2
    return _run(folder, settings, str(folder / relpath), seed, params, run_dir, report, number)


def _run(
    folder: Path,
    settings: ProblemSettings,
    program: str,
    seed: int | None,
    params: dict[str, Any],
    run_dir: Path,
    report: Report,
    number: int | None,
) -> int:
    arguments = call_arguments(settings, seed, params)
    started = time.monotonic()

    def finish(outcome: Outcome) -> int:
        summary = outcome.summary(settings, time.monotonic() - started, arguments)
        path = write_summary(run_dir, summary)
        numbers = {k: v for k, v in summary.items() if isinstance(v, int | float) and not isinstance(v, bool)}
        report.end(outcome.valid, outcome.error, numbers)
        _print(outcome, settings, path.relative_to(folder), number)
        return 0 if outcome.valid else 1

    watchdog = Watchdog(settings.time_limit_s, lambda why: finish(Outcome.failed(why)), exit_code=1).start()
    os.chdir(folder)
    try:
        entry = load_entry(folder, settings)
    except BaseException as exc:  # noqa: BLE001 - a broken evaluator is reported like a failed run
        if isinstance(exc, KeyboardInterrupt):
            raise
        why = f"{type(exc).__name__}: {exc}"
        outcome = Outcome.failed(f"cannot load {settings.evaluator}: {why}{requirement_hint(why)}")
    else:
        outcome = evaluate(entry, program, arguments, settings)
    if not watchdog.finish():
        return 1
    return finish(outcome)


def _print(outcome: Outcome, settings: ProblemSettings, path: Path, number: int | None) -> None:
    head = f"run {number} " if number is not None else ""
    print(f"\n== glia benchmark {head}{'valid' if outcome.valid else 'INVALID'} ==")
    if outcome.error:
        print(f"error: {outcome.error}")
    width = max((len(k) for k in outcome.metrics), default=10)
    for key, value in outcome.metrics.items():
        marker = "  <- objective" if key == settings.metric else ""
        shown = f"{value:.6g}" if isinstance(value, float) else str(value)
        print(f"  {key:<{width}}  {shown}{marker}")
    for key, text in outcome.texts.items():
        print(f"  {key:<{width}}  {text[:200]}")
    for note in outcome.notes:
        print(f"note: {note}")
    if outcome.artifacts:
        print(f"artifacts: {', '.join(outcome.artifacts)} (in the summary)")
    print(f"summary: {path}")


if __name__ == "__main__":
    raise SystemExit(main())
