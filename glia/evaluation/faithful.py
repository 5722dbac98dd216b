"""Is a problem folder faithful under isolation? The verdict on the initial program's two scores.

On setup, the user's own initial program is scored twice with the same seeds: once with the program in
the evaluator's process (as the user's evaluator runs it directly) and once isolated (as Glia's trusted
evaluation runs it, the program in a sandbox of its own). When isolation changes the score beyond the
evaluator's own spread, every trusted score of the run would be wrong in the same way, so Glia stops and
says why, with the fix. `check_initial_program` runs the in-process side (one seed of the main workload,
the core sandbox holding the program beside the evaluator, as `python evaluator.py` would) next to the
trusted evaluation the caller already has; `judge` decides.

The spread is measured on the paired differences (same seed, both ways). An evaluator that gives exactly
the same score both ways on any seed is deterministic, so every seed must agree (up to float rounding);
a noisy one (timings: no seed agrees exactly) may differ by three standard errors of the mean difference.
One seed gives no spread: then only rounding is allowed.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from glia.evaluation.evaluator import Evaluator
from glia.problems.subclasses import framework_subclasses

RELATIVE_ROUNDING = 1e-9
SPREAD_SIGMAS = 3.0
EXTRA_SAMPLES = 2  # more in-process measurements when one repeat leaves a noisy evaluator undecided
FIXES = (
    (
        "missing in its sandbox",
        "put the module beside the program in the folder, or the package in requirements.txt",
    ),
    (
        "Glia refused",
        "have the program return plain data (numbers, lists, dicts, dataclasses of the folder's modules)",
    ),
    ("cannot be passed", "pass plain data (or dataclasses) to the program instead of that object"),
    ("plain copy", "move the class into a module of the folder that the program imports"),
)
DEFAULT_FIX = (
    "make the program work without the folder's other files (it runs in a sandbox holding only the program "
    "and the folder's modules it imports), or see the README's 'What your evaluator can rely on'"
)


@dataclass(frozen=True)
class Faithfulness:
    faithful: bool
    reason: str | None = None  # one line: what differs, why, and the fix


def judge(
    in_process: Sequence[float | None],
    isolated: Sequence[float | None],
    *,
    in_process_error: str | None = None,
    isolated_error: str | None = None,
    program: str = "the initial program",
    repeat: Sequence[float | None] | None = None,
    samples: Sequence[float] | None = None,
    subclasses: Sequence[str] = (),
) -> Faithfulness:
    """The verdict on paired scores (one per seed, same seeds in the same order); errors mean invalid.

    `repeat`: the in-process scores measured a second time, when the first pair disagreed: their own
    difference is the evaluator's spread (an unseeded or timing-based evaluator). `samples`: more
    in-process scores of a single seed, when one repeat is too few to tell: the isolated score must then
    be a plausible further draw (within three standard deviations of a new measurement). `subclasses`:
    the program's classes that subclass a class of the folder's own modules, named as the cause."""
    if isolated_error and not in_process_error:
        shown = _mean(in_process)
        cause = _line(isolated_error)
        fix = _framework_fix(subclasses) or ("" if "fix:" in cause else _fix(isolated_error))
        return Faithfulness(
            False,
            f"{program} scores {_fmt(shown)} when the evaluator runs it in process, but isolated it is invalid: "
            f"{cause}{f'; fix: {fix}' if fix else ''}",  # one fix: the cause's own, when it names one
        )
    if in_process_error and not isolated_error:
        return Faithfulness(
            False,
            f"{program} is invalid when the evaluator runs it in process ({_line(in_process_error)}) but valid "
            "isolated: the evaluator depends on something isolation removes; run the evaluator on it by hand",
        )
    if in_process_error or isolated_error:
        return Faithfulness(
            True
        )  # invalid both ways: the evaluator's own failure, reported as such elsewhere
    pairs = [(a, b) for a, b in zip(in_process, isolated, strict=True) if a is not None and b is not None]
    if len(pairs) != len(in_process):
        return Faithfulness(False, f"{program} has a missing score on some seed one way and not the other")
    differences = [b - a for a, b in pairs]
    mean_difference = statistics.fmean(differences) if differences else 0.0
    scale = max(1.0, *(abs(a) for a, _ in pairs)) if pairs else 1.0
    allowed = RELATIVE_ROUNDING * scale
    if samples and len(pairs) == 1 and len(samples) >= 2:
        draws = [pairs[0][0], *samples]
        allowed += SPREAD_SIGMAS * statistics.stdev(draws) * math.sqrt(1 + 1 / len(draws))
        if abs(pairs[0][1] - statistics.fmean(draws)) <= allowed:
            return Faithfulness(True)
        draw = [(statistics.fmean(draws), pairs[0][1])]
        return Faithfulness(False, _disagree(program, draw, allowed, subclasses))
    if repeat is not None and len(repeat) == len(pairs) and all(r is not None for r in repeat):
        spread = max(abs(r - a) for r, (a, _) in zip(repeat, pairs, strict=True))  # type: ignore[operator]
        if spread > allowed:
            allowed += SPREAD_SIGMAS * spread
            if abs(mean_difference) <= allowed:
                return Faithfulness(True)
            return Faithfulness(False, _disagree(program, pairs, allowed, subclasses))
    deterministic = any(abs(d) <= allowed for d in differences)
    if deterministic and all(abs(d) <= allowed for d in differences):
        return Faithfulness(True)
    if not deterministic and len(differences) > 1:
        allowed += SPREAD_SIGMAS * statistics.stdev(differences) / math.sqrt(len(differences))
        if abs(mean_difference) <= allowed:
            return Faithfulness(True)
    return Faithfulness(False, _disagree(program, pairs, allowed, subclasses))


def _disagree(
    program: str, pairs: list[tuple[float, float]], allowed: float, subclasses: Sequence[str] = ()
) -> str:
    return (
        f"{program} scores {_fmt(_mean([a for a, _ in pairs]))} when the evaluator runs it in process but "
        f"{_fmt(_mean([b for _, b in pairs]))} isolated, beyond the evaluator's own spread ({allowed:.3g}): the "
        f"program depends on something isolation changes; fix: {_framework_fix(subclasses) or DEFAULT_FIX}"
    )


def _framework_fix(subclasses: Sequence[str]) -> str:
    """A program subclassing the folder's framework class: isolation cannot give the evaluator a real
    subclass, nor the program's methods the evaluator's objects (`self.env`)."""
    if not subclasses:
        return ""
    return (
        f"the program's class {subclasses[0]} subclasses a class of the folder's own modules; isolated, "
        "the evaluator's side gets a stand-in for it (issubclass and isinstance against that class are "
        "False) and its objects' methods run in the program's sandbox, apart from the evaluator's objects, "
        "so a simulator that finds and drives the program's subclass cannot be judged isolated: have the "
        "program expose functions (or classes of its own) that the evaluator calls with plain data"
    )


def check_initial_program(
    task: Any, isolated: Any, evaluator: Any, reference: str = "initial_program"
) -> Faithfulness:
    """Score the initial program in process on the first seed `isolated` (its trusted evaluation) used,
    with the settings of `evaluator` (an `Evaluator`), and judge the pair."""
    primary = task.evaluation.primary.name
    workload = isolated.workloads.get(primary) if isolated is not None and isolated.valid else None
    seed = workload.seeds[0].seed if workload is not None and workload.seeds else None
    probe = task.with_overrides(seeds=[seed if seed is not None else 0], workloads=[primary])
    probe = replace(probe, design=replace(probe.design, host=None))  # no program sandbox: in process
    with Evaluator(
        probe,
        evaluator.work_dir / "faithfulness",
        backend=evaluator.backend,
        image=evaluator.image,
        workers=evaluator.workers,
        secrets_dir=evaluator.work_dir / "faithfulness" / ".secrets",  # unused: the seed is given
    ) as direct_evaluator:
        metric = task.metric.name

        def measure() -> tuple[list[float | None], str | None]:
            direct = direct_evaluator.evaluate_baseline(reference)
            if not direct.valid:
                return [None], direct.reason
            return [s.values.get(metric) for s in direct.workloads[primary].seeds], None

        direct_values, direct_error = measure()
        isolated_values = [workload.seeds[0].values.get(metric)] if workload is not None else [None]
        isolated_error = (
            None if isolated is not None and isolated.valid else getattr(isolated, "reason", "missing")
        )
        arguments: dict[str, Any] = {
            "in_process_error": direct_error,
            "isolated_error": isolated_error,
            "program": f"the initial program ({task.design_files[0]})",
            "subclasses": framework_subclasses(task.simulator, task.design_files[0]),
        }
        verdict = judge(direct_values, isolated_values, **arguments)
        if verdict.faithful or direct_error or isolated_error:
            return verdict
        again, _ = measure()  # they differ: is that the evaluator's own spread (unseeded, timings)?
        verdict = judge(direct_values, isolated_values, repeat=again, **arguments)
        noisy = again != direct_values and len(again) == 1 and again[0] is not None
        if verdict.faithful or not noisy:
            return verdict
        samples = [again[0]]  # one repeat is a poor estimate of a noisy evaluator's spread: measure more
        for _ in range(EXTRA_SAMPLES):
            more, _error = measure()
            if more[0] is not None:
                samples.append(more[0])
        return judge(direct_values, isolated_values, samples=samples, **arguments)


def _fix(error: str) -> str:
    for needle, fix in FIXES:
        if needle in error:
            return fix
    return DEFAULT_FIX


def _mean(values: Sequence[float | None]) -> float | None:
    numbers = [v for v in values if v is not None]
    return statistics.fmean(numbers) if numbers else None


def _fmt(value: float | None) -> str:
    return "nothing" if value is None else f"{value:.6g}"


def _line(text: str, limit: int = 400) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
