"""The root logger belongs to Glia while a black-box library runs inside its process.

OpenEvolve adds a console handler to the root logger; LLM4AD's profiler removes every root handler
(Glia's console and its run's `glia.log` among them) and adds one writing to whatever `sys.stdout` was
then. Each search runs inside `root_logging_kept()`, which puts the root logger back as it found it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator


class KeptRootLogging:
    """The root logger's handlers and level as they were before a library touched them."""

    def __init__(self) -> None:
        self.root = logging.getLogger()
        self.handlers = list(self.root.handlers)
        self.level = self.root.level

    def quiet_console(self) -> None:
        """Drop the console handlers a library added (Glia's console belongs to its live view), keep
        the library's log files, and put back any of Glia's handlers the library removed."""
        for handler in list(self.root.handlers):
            if handler not in self.handlers and not isinstance(handler, logging.FileHandler):
                self.root.removeHandler(handler)
        self._put_back()

    def restore(self) -> None:
        """Exactly the handlers and level from before; what the library added is closed."""
        for handler in list(self.root.handlers):
            if handler not in self.handlers:
                self.root.removeHandler(handler)
                handler.close()
        self._put_back()

    def _put_back(self) -> None:
        for handler in self.handlers:
            if handler not in self.root.handlers:
                self.root.addHandler(handler)
        self.root.setLevel(self.level)


@contextlib.contextmanager
def root_logging_kept() -> Iterator[KeptRootLogging]:
    kept = KeptRootLogging()
    try:
        yield kept
    finally:
        kept.restore()
