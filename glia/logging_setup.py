"""Logging for the whole program: JSON lines in the run folder, short readable lines on stderr.

Modules log with `structlog.get_logger()`; this module decides where it goes. The console stays quiet
(warnings and errors) unless the user asks for `-v`; the run's `glia.log` always gets the full story at
info level (debug with `-v`) so a finished run can be investigated afterwards.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TextIO

import structlog

from glia.safe_text import console_plain

LOG_FILE = "glia.log"
NOISY_LIBRARIES = ("urllib3", "docker", "httpx", "httpcore", "openai", "anthropic", "git", "matplotlib")
_HANDLER_MARK = "_glia_handler"


def _console_safe(_logger: object, _name: str, event_dict: dict) -> dict:
    """Every value of a console log line through the console sanitiser: a log line quoting a design's
    output cannot move the cursor, colour the terminal or start a line of its own (tracebacks keep their
    lines, indented)."""
    return {
        key: console_plain(value, 4000, multiline=key == "exception") if isinstance(value, str) else
        (value if isinstance(value, int | float | bool) or value is None else console_plain(repr(value), 2000))
        for key, value in event_dict.items()
    }  # fmt: skip


_SHARED_PROCESSORS: list[structlog.typing.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the moment (redirections and test runners swap it), so a
    handler made early never writes into a stream that has since been closed."""

    @property
    def stream(self) -> TextIO:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_logging(verbose: int = 0, stream: TextIO | None = None) -> None:
    """Route structlog and stdlib logging to the console; call once at program start (idempotent)."""
    structlog.configure(
        processors=[
            *_SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    _remove_handlers(root, kind="console")
    console = logging.StreamHandler(stream) if stream is not None else _CurrentStderrHandler()
    console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    console.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                _console_safe,
                structlog.dev.ConsoleRenderer(colors=False, pad_event_to=0),
            ],
            foreign_pre_chain=_SHARED_PROCESSORS,
        )
    )
    setattr(console, _HANDLER_MARK, "console")
    root.addHandler(console)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)


def log_to_run(run_dir: Path) -> Path:
    """Also write JSON lines into `<run_dir>/glia.log` (replacing any earlier run's file handler)."""
    path = Path(run_dir) / LOG_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    _remove_handlers(root, kind="file")
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(default=str),
            ],
            foreign_pre_chain=_SHARED_PROCESSORS,
        )
    )
    setattr(handler, _HANDLER_MARK, "file")
    root.addHandler(handler)
    return path


def stop_run_log() -> None:
    """Close the run's log file (end of a command, or between runs in one process such as tests)."""
    _remove_handlers(logging.getLogger(), kind="file")


def _remove_handlers(root: logging.Logger, kind: str) -> None:
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, None) == kind:
            root.removeHandler(handler)
            handler.close()
