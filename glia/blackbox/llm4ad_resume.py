"""Continuing an interrupted EoH or FunSearch search from LLM4AD's own checkpoints.

LLM4AD's profiler writes every sample to `samples/` and, as the search goes, EoH's population to
`population/pop_<generation>.json` and FunSearch's programs database to `prog_db/db_<n>.json`; its
`resume_eoh` and `resume_funsearch` rebuild a search from those files. What Glia does around them:

- LLM4AD keeps its profiler's counters (samples, checkpoints written) on the profiler's class, so two
  searches in one process would share them: each search gets a profiler class of its own.
- Its resume replays every logged sample through the profiler, which writes each to `samples/` again
  (a second resume would then replay doubles): the replay writes nothing.
- FunSearch writes its database every 100 samples by default: Glia asks for every sample, so an
  interrupted search has a checkpoint as soon as one sample is registered.
- `resume_funsearch` fails in LLM4AD 1.11, twice: it reads `_config.programs_database`, which FunSearch
  does not have (it keeps the database settings in `db_config`), and its replay of the logged samples
  reads an `algorithm` field that FunSearch's profiler never writes (a KeyError). Glia calls the part
  that works, its database reader (`_resume_db`), with the settings the search was built with, moves the
  programs into the database whose islands are capped (`glia.blackbox.llm4ad_islands`), and sets the
  two log counters the replay would have restored (samples logged, databases written).
- EoH writes its first population only once its initial population is complete (up to 2N samples): a
  search interrupted before that has nothing to resume from and starts again with the budget left, as
  does any search whose checkpoint cannot be read. FunSearch restarted that way does not benchmark its
  template again when it already has a score in this run: the score recorded is registered instead.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import Any

POPULATION_DIR = "population"  # EoH's checkpoints
DATABASE_DIR = "prog_db"  # FunSearch's checkpoints


def profiler_class(base: type) -> type:
    """A subclass of an LLM4AD profiler with counters of its own and a replay that writes nothing."""

    class GliaProfiler(base):  # type: ignore[misc, valid-type]
        _num_samples = 0
        _cur_gen = 0  # EoH's
        _prog_db_order = 0  # FunSearch's
        replaying = False

        def register_function(self, function: Any, *, resume_mode: bool = False) -> None:
            self.replaying = resume_mode
            try:
                super().register_function(function, resume_mode=resume_mode)
            finally:
                self.replaying = False

        def _write_json(self, function: Any, **kwargs: Any) -> None:
            if not self.replaying:
                super()._write_json(function, **kwargs)

    return GliaProfiler


def latest_checkpoint(folder: Path, method_dir: str) -> Path | None:
    """The newest `<name>_<n>.json` of LLM4AD's checkpoint folder, or None."""
    found = []
    for path in (folder / method_dir).glob("*.json") if (folder / method_dir).is_dir() else []:
        match = re.fullmatch(r"[a-z]+_(\d+)\.json", path.name)
        if match:
            found.append((int(match.group(1)), path))
    return max(found)[1] if found else None


def resume_eoh(search: Any, folder: Path, samples: int) -> None:
    """EoH continued from its latest population by LLM4AD's `resume_eoh`, with `samples` more to draw."""
    from llm4ad.method.eoh.resume import resume_eoh as llm4ad_resume_eoh

    llm4ad_resume_eoh(search, str(folder))
    search._max_sample_nums = search._tot_sample_nums + samples  # noqa: SLF001 - its sample counter


def resume_funsearch(search: Any, checkpoint: Path, samples: int, capped: Any) -> None:
    """FunSearch continued from its latest programs database (`checkpoint`), `samples` more to draw;
    `capped()` builds the empty capped database the programs move into.

    The database is read by LLM4AD's own reader (`_resume_db`, the part of its `resume_funsearch` that
    works); the profiler replay is skipped (it fails, and only restores LLM4AD's own log counters, which
    are set here instead)."""
    from llm4ad.method.funsearch.resume import _resume_db

    from glia.blackbox.llm4ad_islands import refill

    folder = checkpoint.parent.parent
    database = _resume_db(
        str(folder),
        search.db_config,
        search._template_program,  # noqa: SLF001
        search._function_to_evolve_name,  # noqa: SLF001
    )
    search._database = refill(capped(), database)  # noqa: SLF001
    search._resume_mode = True  # noqa: SLF001 - run() then neither benchmarks the template again nor re-adds it
    profiler = type(search._profiler)  # noqa: SLF001 - its counters live on its class
    profiler._prog_db_order = int(checkpoint.stem.split("_")[1])  # noqa: SLF001 - the next db is numbered on
    profiler._num_samples = logged_samples(folder)  # noqa: SLF001 - so are the samples
    search._max_sample_nums = samples  # noqa: SLF001


def logged_samples(folder: Path) -> int:
    """How many samples LLM4AD's profiler has logged in `samples/` (its best-so-far file aside)."""
    total = 0
    for path in (folder / "samples").glob("samples_*.json"):
        if path.name != "samples_best.json":
            with contextlib.suppress(OSError, ValueError):
                total += len(json.loads(path.read_text(encoding="utf-8")))
    return total


def start_from_template_score(search: Any, score: float) -> None:
    """FunSearch starting again without benchmarking its template: the score this run recorded for it is
    registered in every island, as FunSearch's `run()` does with the score it measures."""
    search._resume_mode = True  # noqa: SLF001 - run() then skips the template's evaluation
    search._database.register_function(search._function_to_evolve, None, score)  # noqa: SLF001
