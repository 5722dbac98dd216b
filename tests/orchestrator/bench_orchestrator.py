"""How much the orchestrator itself costs per simulation and per context (fakes for everything else).

    python -m tests.orchestrator.bench_orchestrator [--contexts 8] [--designs 50]

Prints wall time, the overhead per simulation (budget charge + run.json rewrite + git snapshot made by
the fake context), and the size of run.json at the end. Figures, not assertions: run it when changing
how often run.json is written.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import structlog

from glia.orchestrator import RunConfig, execute_run, prepare_run
from glia.task import BudgetLimits

from .fakes import Cleanup, Design, FakeEvaluator, FakeProviders, Plan, ScriptedContexts, write_toy_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contexts", type=int, default=8)
    parser.add_argument("--designs", type=int, default=50, help="simulations per context")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        task = write_toy_task(root)
        plan = Plan([Design(90.0 - 0.5 * i) for i in range(args.designs)])
        runner = ScriptedContexts(root / "template", {}, default=plan)
        config = RunConfig(task_path=task, strategy="mcg-par", contexts=args.contexts,
                           researcher_model="openai:x", supervisor_model="openai:x",
                           budgets=BudgetLimits(), workspaces_root=root / "workspaces")  # fmt: skip
        started = time.perf_counter()
        result = execute_run(
            prepare_run(config),
            context_runner=runner,
            evaluator_factory=FakeEvaluator,
            provider_factory=FakeProviders(),
            container_cleanup=Cleanup(),
        )
        elapsed = time.perf_counter() - started
        simulations = args.contexts * args.designs
        size_kib = (result.run_dir / "run.json").stat().st_size / 1024
        print(f"MCG-Par{args.contexts}: {simulations} simulations in {elapsed:.2f} s "
              f"({1000 * elapsed / simulations:.1f} ms per simulation, fake context included)")  # fmt: skip
        print(f"run.json at the end: {size_kib:.1f} KiB; best score {result.best['score']:.2f}")


if __name__ == "__main__":
    main()
