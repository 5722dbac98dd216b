"""A black-box library running in Glia's process leaves Glia's logging as it found it."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from glia.blackbox.foreign_logging import KeptRootLogging, root_logging_kept


@pytest.fixture
def glia_handler():
    root = logging.getLogger()
    mine = logging.StreamHandler(io.StringIO())
    root.addHandler(mine)
    yield mine
    root.removeHandler(mine)


def test_handlers_a_library_removed_come_back_and_its_console_goes(glia_handler, tmp_path: Path) -> None:
    root = logging.getLogger()
    with root_logging_kept() as kept:
        for handler in list(root.handlers):  # what LLM4AD's profiler does to the root logger
            root.removeHandler(handler)
        library_console = logging.StreamHandler(io.StringIO())
        library_file = logging.FileHandler(tmp_path / "lib.log")
        root.addHandler(library_console)
        root.addHandler(library_file)
        root.setLevel(logging.CRITICAL)
        kept.quiet_console()
        assert glia_handler in root.handlers and library_file in root.handlers
        assert library_console not in root.handlers
        logging.getLogger("glia.x").warning("during")
    assert glia_handler in root.handlers and library_file not in root.handlers
    assert library_file.stream is None  # closed, not leaked
    assert root.level == kept.level
    logging.getLogger("glia.x").warning("after")
    assert glia_handler.stream.getvalue() == "during\nafter\n"


def test_llm4ad_profilers_log_on_a_logger_of_their_own(glia_handler, tmp_path: Path) -> None:
    pytest.importorskip("llm4ad")
    from llm4ad.method.eoh import EoHProfiler
    from llm4ad.method.funsearch.profiler import FunSearchProfiler

    from glia.blackbox.llm4ad_method import _close_profiler_log, _own_logger

    before = list(logging.getLogger().handlers)
    for kind in (EoHProfiler, FunSearchProfiler):
        folder = tmp_path / kind.__name__
        profiler = _own_logger(kind(log_dir=str(folder), create_random_path=False, log_style="simple"))
        settings = type("Settings", (), {})()
        settings.marker = "settings line"
        profiler.record_parameters(settings, settings, settings)  # LLM4AD replaces its logger's handlers
        assert logging.getLogger().handlers == before
        _close_profiler_log()
        assert logging.getLogger(profiler._logger_txt.name).handlers == []
        assert "settings line" in (folder / "run_log.txt").read_text()
    assert glia_handler.stream.getvalue() == ""


def test_kept_root_logging_restores_the_level() -> None:
    root = logging.getLogger()
    level = root.level
    kept = KeptRootLogging()
    root.setLevel(logging.ERROR)
    kept.restore()
    assert root.level == level
