"""The trusted evaluation's command, run in the core sandbox: the problem's evaluator on a stand-in.

    python -m glia_support.harness --design NAME --seed N --output-root DIR --experiment NAME
        --time-limit SECONDS [--param key=value ...]

The core holds the pristine problem folder and this harness, never the program. The program runs in the
design sandbox under `glia_isolation.program_host`, listening on the socket named by
`GLIA_DESIGN_ENDPOINT`. The harness writes a stand-in file (named like the program) that forwards the
program's names there (`glia_isolation.program_proxy`), calls the evaluator's entry function with its
path, and writes `DIR/NAME/run/summary.json`: `valid`, `error`, every numeric metric, texts and
artifacts. A fault (a failure of the program's process: exit, crash, hang, flood; a module missing in
its sandbox; anything Glia's crossing refused, such as comparing an object that stayed in the program's
sandbox) is recorded out of band in a fault file and makes the run invalid with that cause, even if the
evaluator caught the exception and returned a score; so does running out of the time limit. The process exits 0 whenever
it wrote a summary: the summary says what happened.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .missing import requirement_hint
from .outcome import Outcome, Watchdog, call_arguments, evaluate, load_entry, write_summary
from .settings import ProblemSettings, parse_param

ENDPOINT_ENV = "GLIA_DESIGN_ENDPOINT"
WATCHDOG_GRACE_S = 2.0  # the program's own deadline fires first, with the more precise message

STUB = '''"""Glia's stand-in for the program, which runs in a sandbox of its own (see glia_isolation.program_proxy)."""
import sys as _glia_sys
if {lib!r} not in _glia_sys.path:
    _glia_sys.path.insert(0, {lib!r})
from glia_isolation.program_proxy import stand_in as _glia_stand_in
_glia_stand_in(globals(), {endpoint!r}, {faults!r}, {deadline!r}, {problem!r})
'''


def write_stub(
    folder: Path, program_name: str, endpoint: str, faults: str, deadline: float, problem: Path | None = None
) -> Path:
    """The stand-in file, named like the program, in a private folder of its own; `problem` is the
    problem folder, whose own classes rebuild the plain instances the program returns."""
    spec = importlib.util.find_spec("glia_isolation")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the glia_isolation package is not importable in the core sandbox")
    lib = str(Path(next(iter(spec.submodule_search_locations))).resolve().parent)
    path = folder / Path(program_name).name
    path.write_text(
        STUB.format(
            lib=lib,
            endpoint=endpoint,
            faults=faults,
            deadline=deadline,
            problem=str(problem) if problem else None,
        ),
        encoding="utf-8",
    )
    return path


def read_faults(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")[:20_000]
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()]


def shutdown_host(endpoint: str) -> None:
    """Tell the program host the evaluation is over (best effort: Glia stops it anyway)."""
    with contextlib.suppress(Exception):
        from glia_isolation import connect

        channel = connect(endpoint, timeout_s=2.0)
        try:
            channel.call("shutdown", timeout_s=2.0)
        finally:
            channel.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m glia_support.harness", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--design", required=True, help="the design slot's name (recorded)")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--output-root", required=True)
    parser.add_argument("--experiment", required=True)
    parser.add_argument("--time-limit", type=float, required=True)
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    folder = Path.cwd()
    settings = ProblemSettings.load(Path(__file__).resolve().parent)
    params = dict(parse_param(text) for text in args.param)
    arguments = call_arguments(settings, args.seed, params)
    run_dir = Path(args.output_root) / args.experiment / "run"
    started = time.monotonic()

    def finish(outcome: Outcome) -> None:
        summary = outcome.summary(settings, time.monotonic() - started, arguments)
        summary["design"] = args.design
        write_summary(run_dir, summary)

    endpoint = os.environ.get(ENDPOINT_ENV)
    if not endpoint and (folder / settings.program).is_file():
        # No program sandbox and the program beside the evaluator: Glia's faithfulness check on setup
        # (glia.evaluation.faithful), which scores the user's own initial program as their evaluator would.
        watchdog = Watchdog(
            args.time_limit + WATCHDOG_GRACE_S, lambda why: finish(Outcome.failed(why))
        ).start()
        outcome = _evaluate_in_process(folder, settings, arguments)
        if watchdog.finish():
            finish(outcome)
        return 0
    if not endpoint:
        finish(Outcome.failed(f"{ENDPOINT_ENV} is not set: the program must run in a sandbox of its own"))
        return 0
    watchdog = Watchdog(args.time_limit + WATCHDOG_GRACE_S, lambda why: finish(Outcome.failed(why))).start()
    outcome = _evaluate(folder, settings, endpoint, arguments, time.time() + args.time_limit)
    if watchdog.finish():
        finish(outcome)
    shutdown_host(endpoint)
    return 0


def _evaluate_in_process(folder: Path, settings: ProblemSettings, arguments: dict[str, Any]) -> Outcome:
    try:
        entry = load_entry(folder, settings)
    except BaseException as exc:  # noqa: BLE001 - as in _evaluate
        if isinstance(exc, KeyboardInterrupt):
            raise
        return Outcome.failed(f"the evaluation could not start: {type(exc).__name__}: {exc}")
    return evaluate(entry, str(folder / settings.program), arguments, settings)


def _evaluate(
    folder: Path, settings: ProblemSettings, endpoint: str, arguments: dict[str, Any], deadline: float
) -> Outcome:
    private = Path(tempfile.mkdtemp(prefix="glia-harness-"))
    faults = private / "faults.log"
    try:
        stub = write_stub(private, settings.program, endpoint, str(faults), deadline, folder)
        sys.path.insert(0, str(folder))
        entry = load_entry(folder, settings)
    except BaseException as exc:  # noqa: BLE001 - a core that cannot start is an invalid run, not a crash
        if isinstance(exc, KeyboardInterrupt):
            raise
        why = f"{type(exc).__name__}: {exc}"
        return Outcome.failed(f"the evaluation could not start: {why}{requirement_hint(why)}")
    outcome = evaluate(entry, str(stub), arguments, settings)
    found = read_faults(faults)
    if found:
        outcome.valid = False
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        outcome.error = found[0] + more + requirement_hint(found[0])
    return outcome


if __name__ == "__main__":
    raise SystemExit(main())
