"""`openevolve`: the real OpenEvolve package (PyPI `openevolve`, Apache-2.0) driven through its Python API.

Settings follow the Glia paper's Table 1 (initial program: the reference baseline; exploration 0.6,
exploitation 0.4; islands: OpenEvolve's default of 5, since the table's island count belongs to
FunSearch). OpenEvolve is pointed at the run's model through its documented `init_client` hook, and its
evaluator is a thin adapter; both talk to this process's broker (`glia.blackbox.broker`), so every model
call is priced and charged, and every candidate is benchmarked in the sandbox and charged to the same
budget, exactly as for the other methods. OpenEvolve never runs a candidate itself.

What OpenEvolve does not offer, and how Glia deals with it (said, not patched):
- It counts iterations, not simulations or dollars: Glia caps the iterations at the generation cap and
  asks it to stop (its `request_shutdown`) as soon as a budget limit is reached; iterations in flight
  then are cut off, and a candidate whose simulation the ledger refused is recorded as unrun.
- It installs its own SIGINT/SIGTERM handlers while it runs, in the main thread only: a first Ctrl-C
  stops it gracefully (the run is recorded as interrupted and can be resumed); a second one exits the
  process at once (OpenEvolve's own behaviour). Glia restores its handlers afterwards.
- It adds log handlers to the root logger: Glia removes its console handler (its log file stays under
  `ctx-1/openevolve/logs/`).
- It resumes from checkpoints: Glia checkpoints every iteration (setting `checkpoint_interval`), so a
  resumed run continues from the last finished iteration; an iteration cut off by the stop is lost to
  OpenEvolve (its simulation, if it ran, is still counted and recorded).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import signal
import threading
from pathlib import Path
from typing import Any

import structlog

from glia.blackbox.broker import Broker
from glia.blackbox.foreign_logging import KeptRootLogging
from glia.blackbox.initial import initial_program
from glia.blackbox.prompts import openevolve_system_message
from glia.blackbox.session import MethodEnded, MethodSession
from glia.blackbox.store import VALID, best_claim
from glia.evaluation import design_sha256
from glia.record.outcome import INTERRUPTED

log = structlog.get_logger()

OE_DIR = "openevolve"
NO_CANDIDATES = "no_candidates"  # OpenEvolve's EvolutionFailedError: no iteration produced a program
SEARCH_ENDED = "search_ended"  # OpenEvolve stopped by itself before any limit
OPENEVOLVE_FORCE_EXIT = "force_exit_handler"  # what OpenEvolve installs for SIGINT after a first signal
WATCH_INTERVAL_S = 0.2
MAX_CODE_LENGTH = 200_000


def openevolve_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("openevolve")
    except Exception:  # noqa: BLE001 - not installed
        return None


def run_openevolve(session: MethodSession) -> tuple[str, int | None, dict[str, Any]]:
    """Run OpenEvolve to the end of the budget; returns (end reason, the candidate it chose, facts)."""
    if threading.current_thread() is not threading.main_thread():
        raise MethodEnded(
            "exception", "OpenEvolve installs signal handlers, so it must run in the main thread"
        )
    from openevolve.config import Config, LLMModelConfig
    from openevolve.controller import EvolutionFailedError, OpenEvolve

    from glia.blackbox.openevolve_bridge import BROKER_SCHEME, broker_client, evaluator_source

    task, settings = session.task, session.settings
    if len(task.design_files) != 1:
        raise MethodEnded(
            "exception",
            f"OpenEvolve evolves one program file; this task's design has {len(task.design_files)}",
        )
    folder = session.ctx_dir / OE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    start = initial_program(task, settings.initial_program)
    suffix = Path(task.design_files[0]).suffix or ".py"
    program_path = folder / f"initial_program{suffix}"
    if not program_path.exists():
        program_path.write_text(start.text, encoding="utf-8")
    facts: dict[str, Any] = {
        "version": openevolve_version(),
        "initial_program": start.source,
        "initial_program_note": start.note,
    }
    reason = session.stop_reason()
    if reason is not None:
        return reason, None, facts

    stopper = _Stopper()
    broker = Broker(session, task.design_files[0], stopper.request, stopper.stopping)
    socket_path = broker.start()
    evaluator_path = folder / "glia_evaluator.py"
    evaluator_path.write_text(evaluator_source(str(socket_path)), encoding="utf-8")
    seed = settings.seed if settings.seed is not None else _seed_from(session.host.run_id)
    config = _config(
        session, Config, LLMModelConfig, f"{BROKER_SCHEME}{socket_path}", broker_client, seed, folder
    )
    checkpoint = latest_checkpoint(folder / "checkpoints")
    iterations = max(0, session.cap - session.generations)
    facts.update(seed=seed, resumed_from=str(checkpoint) if checkpoint else None)

    saved_handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    kept = KeptRootLogging()
    best = None
    try:
        controller = OpenEvolve(str(program_path), str(evaluator_path), config, output_dir=str(folder))
        kept.quiet_console()
        stopper.attach(controller, session)
        best = asyncio.run(
            controller.run(iterations=iterations, checkpoint_path=str(checkpoint) if checkpoint else None)
        )
        reason = None
    except EvolutionFailedError as exc:
        reason, facts["error"] = NO_CANDIDATES, str(exc)
    finally:
        stopper.detach()
        # OpenEvolve's handler, on a first SIGINT or SIGTERM, replaces the SIGINT handler by one that exits:
        # finding that one installed means a user stopped the run (its normal end sets the same event).
        stopper.user_interrupted = _name(signal.getsignal(signal.SIGINT)) == OPENEVOLVE_FORCE_EXIT
        for signum, handler in saved_handlers.items():
            signal.signal(signum, handler)
        kept.restore()
        broker.close()
    if broker.fatal is not None:
        raise broker.fatal
    if stopper.user_interrupted:
        session.host.stop.set()  # OpenEvolve's own Ctrl-C handler stopped it: the run is interrupted
    reason = reason or session.stop_reason() or SEARCH_ENDED
    if session.host.stop.is_set():
        reason = INTERRUPTED
    return reason, _chosen(session, best), facts


def _config(
    session: MethodSession,
    config_class: Any,
    model_class: Any,
    api_base: str,
    client: Any,
    seed: int,
    folder: Path,
) -> Any:
    settings = session.settings
    system = openevolve_system_message(session.task, session.host.baselines)
    config = config_class()
    config.random_seed = seed
    config.max_iterations = max(1, session.cap)
    config.checkpoint_interval = settings.checkpoint_interval
    config.log_dir = str(folder / "logs")
    config.diff_based_evolution = settings.diff_based
    config.max_code_length = MAX_CODE_LENGTH
    model = model_class(
        name=getattr(session.host.provider, "model", "model"),
        api_base=api_base,
        init_client=client,
        system_message=system,
        weight=1.0,
    )
    config.llm.models = [model]
    config.llm.evaluator_models = [model]
    config.prompt.system_message = system
    config.database.num_islands = settings.islands
    config.database.exploration_ratio = settings.exploration
    config.database.exploitation_ratio = settings.exploitation
    config.database.random_seed = seed
    config.evaluator.cascade_evaluation = False
    config.evaluator.parallel_evaluations = settings.workers
    config.evaluator.max_retries = 0  # a retried evaluation would be another simulation
    config.evaluator.timeout = int(session.bench.timeout_s * (settings.workers + 1) + 60)
    config.evaluator.use_llm_feedback = False
    config.evolution_trace.enabled = False
    return config


class _Stopper:
    """Asks a running OpenEvolve to stop when Glia says so (budget spent, run stopping), and tells whether
    it is stopping, whoever asked (Glia, or OpenEvolve's own handler of a user's Ctrl-C)."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self._controller: Any = None
        self._parallel: Any = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.user_interrupted = False

    def request(self) -> None:
        self.requested.set()
        self._forward()

    def stopping(self) -> bool:
        """Whether OpenEvolve has been asked to stop, by Glia or by its own signal handler."""
        parallel = self._parallel or getattr(self._controller, "parallel_controller", None)
        return self.requested.is_set() or (parallel is not None and parallel.shutdown_event.is_set())

    def attach(self, controller: Any, session: MethodSession) -> None:
        self._controller = controller

        def watch() -> None:
            while not self._done.wait(WATCH_INTERVAL_S):
                if (
                    self._parallel is None
                    and getattr(self._controller, "parallel_controller", None) is not None
                ):
                    self._parallel = self._controller.parallel_controller
                if session.host.stop.is_set() or session.stop_reason() is not None:
                    self.requested.set()
                self._forward()

        self._thread = threading.Thread(target=watch, name="glia-oe-stopper", daemon=True)
        self._thread.start()

    def _forward(self) -> None:
        parallel = self._parallel or getattr(self._controller, "parallel_controller", None)
        if self.requested.is_set() and parallel is not None:
            parallel.request_shutdown()

    def detach(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _chosen(session: MethodSession, best: Any) -> int | None:
    """The candidate OpenEvolve returned as its best (by its text), else the best claimed one."""
    records = session.store.records()
    code = getattr(best, "code", None)
    if isinstance(code, str):
        digest = design_sha256({session.task.design_files[0]: code})
        matching = [r for r in records if r.design_hash == digest and r.status == VALID]
        if matching:
            return matching[-1].n
    fallback = best_claim(records, session.metric)
    return fallback.n if fallback else None


def _name(handler: Any) -> str:
    return str(getattr(handler, "__name__", ""))


def latest_checkpoint(folder: Path) -> Path | None:
    """OpenEvolve's newest checkpoint folder (`checkpoint_<iteration>`), or None."""
    found = []
    for path in folder.glob("checkpoint_*") if folder.is_dir() else []:
        match = re.fullmatch(r"checkpoint_(\d+)", path.name)
        if match and path.is_dir():
            found.append((int(match.group(1)), path))
    return max(found)[1] if found else None


def _seed_from(run_id: str) -> int:
    """A different OpenEvolve seed for every run (repeats must not replay one search), stable across resumes."""
    return int(hashlib.sha256(run_id.encode()).hexdigest()[:8], 16) % (2**31)
