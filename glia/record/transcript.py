"""The context transcript on disk: an append-only JSONL log, one event per line, and its one parser.

Everything else (research notes, resume, the Supervisor's view, reports, the live table) is derived from
this file, so it is written as things happen and survives a crash: each line is flushed and fsync'd.
Every reader goes through `parse_line`, which skips a torn last line left by a kill in the middle of a
write, blank lines and anything that is not an event object.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# 1: the first format. 2: adds `session_start` (each session of a context) and `command_started` (a
# command is about to run, so recovery can tell a command that ran from one that never did).
SCHEMA_VERSION = 2
TRANSCRIPT_FILE = "transcript.jsonl"


def parse_line(line: bytes | str) -> dict[str, Any] | None:
    """One transcript line as an event dict, or None (blank, torn, not JSON, not an event object)."""
    text = line.strip()
    if not text:
        return None
    try:
        event = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return event if isinstance(event, dict) and isinstance(event.get("type"), str) else None


def read_events(path: Path) -> list[dict[str, Any]]:
    """The events of a transcript in order; unreadable lines (a torn write) are skipped."""
    try:
        with Path(path).open("rb") as handle:
            return [event for raw in handle if (event := parse_line(raw)) is not None]
    except (FileNotFoundError, NotADirectoryError):
        return []


class TranscriptFollower:
    """Reads only the complete lines appended since the last call, so polling a long transcript is cheap."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._offset = 0

    def new_events(self) -> list[dict[str, Any]]:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except OSError:
            return []
        complete = chunk.rfind(b"\n") + 1
        self._offset += complete
        return [event for raw in chunk[:complete].splitlines() if (event := parse_line(raw)) is not None]


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
        self._next_seq = max((_int(e.get("seq"), -1) for e in existing), default=-1) + 1
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


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default
