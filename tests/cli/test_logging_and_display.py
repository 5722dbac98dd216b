"""Logging destinations and levels; the choice between the live table and plain lines."""

from __future__ import annotations

import io
import json
import logging

import structlog
from rich.console import Console

from glia.logging_setup import configure_logging, log_to_run, stop_run_log
from glia.progress import LiveProgress, PlainProgress, make_display
from glia.record.view import read_run


def test_console_is_quiet_by_default_and_readable(tmp_path) -> None:
    stream = io.StringIO()
    configure_logging(0, stream)
    log = structlog.get_logger("glia.test")
    log.info("context.started", context=1)
    log.debug("details", x=1)
    log.warning("price.unknown", model="m")
    text = stream.getvalue()
    assert "context.started" not in text and "details" not in text
    line = text.strip()
    assert "price.unknown" in line and "model=m" in line and "warning" in line
    assert not line.startswith("{"), "the console gets readable lines, not JSON"


def test_verbose_shows_debug(tmp_path) -> None:
    stream = io.StringIO()
    configure_logging(1, stream)
    structlog.get_logger("glia.test").debug("details", x=1)
    assert "details" in stream.getvalue() and "x=1" in stream.getvalue()
    configure_logging(0, io.StringIO())


def test_run_log_gets_json_lines_from_structlog_and_stdlib(tmp_path) -> None:
    configure_logging(0, io.StringIO())
    path = log_to_run(tmp_path / "run")
    structlog.get_logger("glia.test").info("run.prepared", run_id="r1")
    logging.getLogger("some.library").warning("plain %s message", "stdlib")
    try:
        raise ValueError("boom")
    except ValueError:
        structlog.get_logger("glia.test").exception("run.failed")
    stop_run_log()
    structlog.get_logger("glia.test").info("after.close")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["event"] for r in records] == ["run.prepared", "plain stdlib message", "run.failed"]
    assert records[0]["run_id"] == "r1" and records[0]["level"] == "info" and "timestamp" in records[0]
    assert records[1]["logger"] == "some.library" and records[1]["level"] == "warning"
    assert "ValueError: boom" in records[2]["exception"]


def test_display_is_live_on_a_terminal_and_plain_otherwise(finished_run) -> None:
    plain = make_display(Console(file=io.StringIO(), force_terminal=False))
    assert isinstance(plain, PlainProgress)
    screen = io.StringIO()
    live = make_display(Console(file=screen, force_terminal=True, width=180))
    assert isinstance(live, LiveProgress)
    live.close(read_run(finished_run))
    drawn = screen.getvalue()
    assert "MCG-Par2" in drawn and "trusted" in drawn and "./run_all.sh ai --broken" in drawn
