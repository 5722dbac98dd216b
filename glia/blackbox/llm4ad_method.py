"""`eoh` and `funsearch`: the real LLM4AD package (PyPI `llm4ad`, MIT) driven through its Python API.

LLM4AD's EoH and FunSearch evolve one Python function inside a template program. Glia's unit is a design
file, so Glia hands LLM4AD a template whose one function, `design_file()`, has the whole design file as its
body (a module's `from __future__` lines, which cannot sit in a function, go before it); each program
LLM4AD asks to evaluate is turned back into a design file by reading that body (with `ast`, never running
it). The two hooks LLM4AD documents are all Glia supplies:

- `GliaLLM` (an `llm4ad.base.LLM`): every model call goes through the run's provider via the session, so
  it is priced, recorded as a `model_call` and charged to the run's budget; LLM4AD holds no key.
- `GliaEvaluation` (an `llm4ad.base.Evaluation`) with `exec_code=False` and `safe_evaluate=False`: LLM4AD
  neither `exec`s the program nor starts a process for it; it calls `evaluate_program(text, None)`, which
  settles the design exactly as `openevolve`'s evaluator does (static checks, then one sandboxed
  benchmark through the simulation ledger). No numba decorator, protected division or seed line is
  added (those options are off), so the text benchmarked is the text the model wrote.

Settings follow the Glia paper's Table 1: EoH's initial population N = 20; FunSearch shows k = 3 programs
per prompt, over 6 islands. What LLM4AD does not offer, and what Glia does instead (said, not patched):
- It counts samples, not simulations or dollars: Glia caps the samples at the model calls left and,
  once a budget limit is reached or the run is stopping, makes every further model call raise
  `SearchStopped` (a `KeyboardInterrupt`, the one exception LLM4AD's loops end on).
- FunSearch's constructor builds its programs database with fixed settings (2 programs per prompt, 10
  islands) and no cap on an island's size: Glia replaces the database before the search starts, as
  LLM4AD's own resume does, by one with Table 1's k and island count whose islands hold at most 20
  programs each (a subclass of LLM4AD's `ProgramsDatabase`, `glia.blackbox.llm4ad_islands`); the run's
  facts say what each island held at the end.
- Ctrl-C stops the search like a spent budget; a resumed run continues from LLM4AD's own checkpoints
  where there is one (`glia.blackbox.llm4ad_resume` says how, and where it restarts with the budget left);
  the candidates and simulations already spent stay recorded and counted, never run again.
- Its sampling loops swallow every exception and retry; a pass that fails before it asks the model
  would retry forever, unchecked, so `glia.blackbox.llm4ad_guard` ends such a search with the cause.
"""

from __future__ import annotations

import ast
import contextlib
import logging
import textwrap
import threading
from pathlib import Path
from typing import Any, NoReturn

import structlog

from glia.blackbox.foreign_logging import root_logging_kept
from glia.blackbox.initial import initial_program
from glia.blackbox.llm4ad_guard import SpinGuard, guard_loops
from glia.blackbox.llm4ad_islands import capped_database, islands_held
from glia.blackbox.llm4ad_resume import (
    DATABASE_DIR,
    POPULATION_DIR,
    latest_checkpoint,
    profiler_class,
    resume_eoh,
    resume_funsearch,
    start_from_template_score,
)
from glia.blackbox.prompts import openevolve_system_message
from glia.blackbox.session import MethodEnded, MethodSession
from glia.blackbox.store import VALID, best_claim
from glia.evaluation import design_sha256
from glia.llm.types import Message
from glia.record.outcome import INTERRUPTED
from glia.strategies.method_names import EOH, FUNSEARCH

log = structlog.get_logger()

LLM4AD_DIR = "llm4ad"
WRAPPER = "design_file"
SEARCH_ENDED = "search_ended"  # LLM4AD stopped by itself before any limit
NO_CANDIDATES = "no_candidates"
PROFILER_LOGGER = "llm4ad.profiler"
EOH_SYSTEM = "You design programs for a systems problem. Answer in exactly the format the request asks for."


class SearchStopped(KeyboardInterrupt):
    """Raised into LLM4AD's sampler threads to end its loops (they stop on KeyboardInterrupt only)."""


def llm4ad_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("llm4ad")
    except Exception:  # noqa: BLE001 - not installed
        return None


def wrap_design(text: str) -> str:
    """The template program LLM4AD evolves: the design file as the body of `design_file()`."""
    lines = text.splitlines()
    future = [ln for ln in lines if ln.startswith("from __future__ import")]
    body = [ln for ln in lines if not ln.startswith("from __future__ import")]
    indented = textwrap.indent("\n".join(body).strip("\n"), "    ", lambda ln: True)
    head = "\n".join(future) + "\n\n" if future else ""
    return f"{head}def {WRAPPER}():\n{indented}\n"


def unwrap_design(program: str) -> str | None:
    """The design file a program of LLM4AD's carries (the body of its first function), or None.

    Parsed with `ast` only: nothing in the program runs here."""
    try:
        tree = ast.parse(program)
    except SyntaxError:
        return None
    function = next((n for n in tree.body if isinstance(n, ast.FunctionDef)), None)
    if function is None or not function.body:
        return None
    lines = program.splitlines()
    head = [ln for ln in lines[: function.lineno - 1] if ln.startswith("from __future__ import")]
    start = function.body[0].lineno - 1
    body = textwrap.dedent("\n".join(lines[start : function.end_lineno]))
    return ("\n".join(head) + "\n\n" if head else "") + body.strip("\n") + "\n"


def task_description(session: MethodSession) -> str:
    """What LLM4AD puts at the top of its prompts: the same facts the other methods get, and the wrapper."""
    facts = openevolve_system_message(session.task, session.host.baselines)
    return (
        f"{facts}\n\nHow to answer: the design file is written as the body of a Python function "
        f"`{WRAPPER}()`; Glia takes that body, dedented, as the file `{session.task.design_files[0]}`. "
        f"Write the whole file's code (imports, classes, functions) inside `{WRAPPER}()`, without "
        "`from __future__` imports (a function cannot hold them; Glia keeps the template's)."
    )


def run_llm4ad(session: MethodSession) -> tuple[str, int | None, dict[str, Any]]:
    """Run EoH or FunSearch to the end of the budget; returns (end reason, chosen candidate, facts)."""
    from llm4ad.base import LLM, Evaluation

    task, settings = session.task, session.settings
    if len(task.design_files) != 1:
        raise MethodEnded(
            "exception", f"LLM4AD evolves one program; this task's design has {len(task.design_files)} files"
        )
    start = initial_program(task, settings.initial_program)
    facts: dict[str, Any] = {
        "package": "llm4ad",
        "version": llm4ad_version(),
        "initial_program": start.source,
        "initial_program_note": start.note,
    }
    reason = session.stop_reason()
    if reason is not None:
        return reason, None, facts
    folder = session.ctx_dir / LLM4AD_DIR
    folder.mkdir(parents=True, exist_ok=True)
    design_file = task.design_files[0]
    stop = threading.Event()

    def stopping() -> str | None:
        why = session.stop_reason()
        if why is not None:
            stop.set()
        return why if why is not None else ("stopping" if stop.is_set() else None)

    def end_spinning(detail: str) -> NoReturn:
        log.error("blackbox.llm4ad_loop_spinning", method=session.method, detail=detail)
        facts.setdefault("ended", {"reason": "exception", "detail": detail})
        stop.set()
        raise SearchStopped

    guard = SpinGuard(end_spinning)

    class GliaLLM(LLM):
        """LLM4AD's model interface, answered by Glia's provider (priced, recorded, charged)."""

        def __init__(self) -> None:
            super().__init__(do_auto_trim=True)
            # EoH writes the task description into each prompt; FunSearch's prompts are code only
            self.system = EOH_SYSTEM if session.method == EOH else task_description(session)

        def draw_sample(self, prompt: str | Any, *args: Any, **kwargs: Any) -> str:
            guard.asked_model()
            if stopping() is not None:
                raise SearchStopped
            try:
                generation = session.generate(self.system, [Message(role="user", content=str(prompt))])
            except MethodEnded as exc:
                facts.setdefault("ended", {"reason": exc.reason, "detail": exc.detail})
                stop.set()
                raise SearchStopped from exc
            return generation.text

    class GliaEvaluation(Evaluation):
        """LLM4AD's evaluation hook: the program text goes to Glia's sandboxed benchmark, nothing else."""

        def __init__(self) -> None:
            super().__init__(
                template_program=wrap_design(start.text),
                task_description=task_description(session),
                exec_code=False,  # LLM4AD must not exec the candidate ...
                safe_evaluate=False,  # ... nor fork a process for it; evaluate_program gets the text
            )

        def evaluate_program(self, program_str: str, callable_func: Any, **kwargs: Any) -> float | None:
            try:
                return self._settle(program_str)
            except Exception as exc:  # LLM4AD would swallow it: Glia's own failure ends the run
                log.exception("blackbox.llm4ad_evaluation_failed", method=session.method)
                facts.setdefault("ended", {"reason": "exception", "detail": f"{type(exc).__name__}: {exc}"})
                stop.set()
                return None

        def _settle(self, program_str: str) -> float | None:
            code = unwrap_design(program_str)
            origin = {"llm4ad": session.method}
            if code is None:
                session.settle_unrun({design_file: program_str}, None, None, origin, "no design_file() body")
                return None
            if stopping() is not None:
                session.settle_unrun({design_file: code}, None, None, origin, "LLM4AD was stopping")
                return None
            record = session.settle_files({design_file: code}, None, None, origin)
            stopping()
            if record.status != VALID or record.claimed_score is None:
                return None  # LLM4AD's "invalid": kept out of its population
            return float(session.metric.as_maximised(record.claimed_score))

    # LLM4AD's sample cap is the model calls left: a sample that fails the static checks costs no
    # simulation, so the simulation budget is enforced by the ledger and stopping(), not by this cap.
    samples = max(1, session.cap - session.generations)
    facts["samples"] = samples
    llm, evaluation = GliaLLM(), GliaEvaluation()
    with root_logging_kept(), (folder / "settings.txt").open("a", encoding="utf-8") as out:
        # its profiler prints its settings, its resume a progress bar
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            search = _build(session, llm, evaluation, samples, folder, facts)
        _close_profiler_log()
    guard_loops(search, guard)
    if "resume_error" in facts:  # logged here: stdout and stderr went to settings.txt while building
        log.warning("blackbox.llm4ad_resume_failed", method=session.method, error=facts["resume_error"])
    hook = threading.excepthook

    def quiet(args: Any) -> None:  # LLM4AD's initialisation threads end on SearchStopped: expected
        if not isinstance(args.exc_value, SearchStopped):
            hook(args)

    threading.excepthook = quiet
    try:
        search.run()
    except SearchStopped:
        pass
    except RuntimeError as exc:  # FunSearch: "The score of the template function must not be None"
        reason, facts["error"] = NO_CANDIDATES, str(exc)
    finally:
        threading.excepthook = hook
    ended = facts.get("ended")
    if ended and ended["reason"] != INTERRUPTED:
        raise MethodEnded(ended["reason"], ended["detail"])
    if reason is None:
        reason = session.stop_reason() or SEARCH_ENDED
    if session.host.stop.is_set():
        reason = INTERRUPTED
    if session.method == FUNSEARCH:
        facts["islands"] = islands_held(search._database, settings.island_capacity)  # noqa: SLF001
    best = best_claim(session.store.records(), session.metric)
    return reason, best.n if best else None, facts


def _build(session: MethodSession, llm: Any, evaluation: Any, samples: int, folder: Path,
           facts: dict[str, Any]) -> Any:  # fmt: skip
    """The LLM4AD search, continued from its latest checkpoint when an earlier session left one."""
    earlier = bool(session.store.records())
    checkpoint = latest_checkpoint(folder, POPULATION_DIR if session.method == EOH else DATABASE_DIR)
    facts["resumed_from"] = None
    if earlier and checkpoint is not None:
        search = _new_search(session, llm, evaluation, samples, folder)
        try:
            if session.method == EOH:
                resume_eoh(search, folder, samples)
            else:
                resume_funsearch(search, checkpoint, samples, lambda: _capped(session, search))
            facts["resumed_from"] = checkpoint.relative_to(folder).as_posix()
            return search
        except Exception as exc:  # noqa: BLE001 - an unreadable checkpoint: start again with the budget left
            facts["resume_error"] = f"{type(exc).__name__}: {exc}"
    search = _new_search(session, llm, evaluation, samples, folder)
    if earlier:
        facts["restarted"] = "no checkpoint of LLM4AD's to continue from: a new search with the budget left"
        score = _template_score(session, search) if session.method == FUNSEARCH else None
        if score is not None:
            start_from_template_score(search, score)
    return search


def _new_search(session: MethodSession, llm: Any, evaluation: Any, samples: int, folder: Path) -> Any:
    settings = session.settings
    if session.method == EOH:
        from llm4ad.method.eoh import EoH, EoHProfiler

        profiler = _own_logger(
            profiler_class(EoHProfiler)(log_dir=str(folder), create_random_path=False, log_style="simple")
        )
        return EoH(
            llm,
            evaluation,
            profiler=profiler,  # also what makes EoH count its samples
            max_generations=None,
            max_sample_nums=samples,
            pop_size=settings.population,
            num_samplers=1,
            num_evaluators=1,
        )
    if session.method == FUNSEARCH:
        from llm4ad.method.funsearch import FunSearch, ProgramsDatabaseConfig
        from llm4ad.method.funsearch.profiler import FunSearchProfiler

        profiler = _own_logger(
            profiler_class(FunSearchProfiler)(
                log_dir=str(folder),
                create_random_path=False,
                log_style="simple",
                program_db_register_interval=1,  # a checkpoint after every sample (its default: 100)
            )
        )
        search = FunSearch(
            llm,
            evaluation,
            profiler=profiler,
            num_samplers=1,
            num_evaluators=1,
            samples_per_prompt=settings.samples_per_prompt,
            max_sample_nums=samples,
        )
        search.db_config = ProgramsDatabaseConfig(
            functions_per_prompt=settings.prompt_programs, num_islands=settings.funsearch_islands
        )
        search._database = _capped(session, search)  # noqa: SLF001 - as LLM4AD's own resume_funsearch does
        return search
    raise ValueError(f"{session.method!r} is not an LLM4AD method")


def _capped(session: MethodSession, search: Any) -> Any:
    """An empty FunSearch database with the run's settings, its islands capped (Table 1: 20 programs)."""
    return capped_database(
        search.db_config,
        search._template_program,  # noqa: SLF001
        search._function_to_evolve_name,  # noqa: SLF001
        session.settings.island_capacity,
    )


def _template_score(session: MethodSession, search: Any) -> float | None:
    """The score (maximised) an earlier session's benchmark gave FunSearch's template, if it ran."""
    code = unwrap_design(str(search._template_program))  # noqa: SLF001
    if code is None:
        return None
    digest = design_sha256({session.task.design_files[0]: code})
    ran = [r for r in session.store.records() if r.design_hash == digest and r.status == VALID]
    if not ran or ran[0].claimed_score is None:
        return None
    return float(session.metric.as_maximised(ran[0].claimed_score))


def _own_logger(profiler: Any) -> Any:
    """LLM4AD's profiler logs its settings through the root logger, after removing every root handler
    (Glia's console and `glia.log`): it gets a logger of its own, which does not propagate."""
    profiler._logger_txt = logging.getLogger(PROFILER_LOGGER)  # noqa: SLF001 - its only logger
    profiler._logger_txt.propagate = False  # noqa: SLF001
    return profiler


def _close_profiler_log() -> None:
    """The profiler's handlers write to `settings.txt` and to the stdout of that moment: both are closed
    once it has written its settings, so nothing writes into a closed stream later."""
    logger = logging.getLogger(PROFILER_LOGGER)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
