"""The context transcript: an append-only JSONL log, one event per line (contract 4).

Everything else (research notes, resume, the Supervisor's view, reports) is derived from this file, so
it is written as things happen and survives a crash: each line is flushed and fsync'd, and a reader
skips a torn last line left by a kill in the middle of a write.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1


def read_events(path: Path) -> list[dict[str, Any]]:
    """Return the events of a transcript in order; unreadable lines (a torn write) are skipped."""
    path = Path(path)
    if not path.exists():
        return []
    events: list[dict[str, Any]] = []
    with path.open("rb") as handle:
        for raw in handle:
            line = raw.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(event, dict) and "type" in event:
                events.append(event)
    return events


class Transcript:
    """Appends events to one context's `transcript.jsonl`; safe to share between threads.

    Reopening an existing file continues its sequence numbers, and a torn last line is closed off with
    a newline first so the next event starts on a line of its own.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        existing = read_events(self.path)
        self._next_seq = max((int(e.get("seq", -1)) for e in existing), default=-1) + 1
        needs_newline = (
            self.path.exists() and self.path.stat().st_size > 0 and not _ends_with_newline(self.path)
        )
        self._handle = self.path.open("a", encoding="utf-8")
        if needs_newline:
            self._write_line("")

    def append(self, type: str, **fields: Any) -> dict[str, Any]:
        """Write one event and return it (with its `v`, `seq` and `ts`)."""
        with self._lock:
            event: dict[str, Any] = {
                "v": SCHEMA_VERSION,
                "seq": self._next_seq,
                "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "type": type,
                **fields,
            }
            self._write_line(json.dumps(event, ensure_ascii=False, default=str))
            self._next_seq += 1
            return event

    def events(self) -> list[dict[str, Any]]:
        """All events written so far (read back from disk, so it includes earlier sessions)."""
        with self._lock:
            return read_events(self.path)

    def close(self) -> None:
        with self._lock:
            if not self._handle.closed:
                self._handle.close()

    def __enter__(self) -> Transcript:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write_line(self, line: str) -> None:
        self._handle.write(line + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
