"""An incremental reader of a run folder, for readers that look at the same runs again and again (the
browser view): each transcript is folded once, then only the lines appended since are read.

`TranscriptIndex` keeps, per transcript, the folded `ContextView`, the byte offset where each Researcher
turn starts (so one page of turns is read without parsing the whole file) and the turn of each
simulation. A file whose size and mtime are unchanged is not touched; one that grew is read from where
the index stopped; one that shrank or was replaced is read again. `RunIndex` does the same for every
context of many runs and builds the `RunView` that `glia.record.view.read_run` would.

Lines are parsed by `glia.record.transcript.parse_line` and typed by `glia.record.events.parse_event`,
like every other reader.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glia.metric import Metric
from glia.record import events as ev
from glia.record.lock import probe_lock
from glia.record.transcript import TRANSCRIPT_FILE, parse_line
from glia.record.view import ContextView, RunView, _context_folders, load_doc


@dataclass
class TurnEvent:
    """One event of a transcript with the Researcher turn it belongs to (0: before the first turn)."""

    turn: int
    raw: dict[str, Any]
    event: ev.Event


@dataclass
class SearchHit:
    context: int
    turn: int
    type: str
    text: str


@dataclass
class TranscriptIndex:
    """One transcript, folded incrementally."""

    path: Path
    index: int
    metric: Metric
    view: ContextView = field(init=False)
    turn_offsets: list[int] = field(default_factory=list)  # byte offset of each assistant line
    sim_turns: dict[int, int] = field(default_factory=dict)  # simulation index -> turn that ran it
    _offset: int = 0
    _stamp: tuple[int, int, int] | None = None  # (inode, size, mtime_ns) when last read
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self.view = ContextView(index=self.index, metric=self.metric)
        self.turn_offsets, self.sim_turns, self._offset = [], {}, 0

    @property
    def turns(self) -> int:
        return len(self.turn_offsets)

    def refresh(self) -> ContextView:
        """The context as the file is now (reads only what was appended since the last call)."""
        with self._lock:
            try:
                st = os.stat(self.path)
            except OSError:
                self._reset()
                self._stamp = None
                return self.view
            stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
            if stamp == self._stamp:
                return self.view
            if self._stamp is not None and (st.st_ino != self._stamp[0] or st.st_size < self._offset):
                self._reset()  # replaced or truncated: read again from the start
            self._read_from(self._offset)
            self._stamp = stamp
            return self.view

    def _read_from(self, offset: int) -> None:
        try:
            handle = self.path.open("rb")
        except OSError:
            return
        with handle:
            handle.seek(offset)
            position = offset
            for raw in handle:
                if not raw.endswith(b"\n"):
                    break  # a line still being written: read it next time
                event = parse_line(raw)
                if event is not None:
                    typed = ev.parse_event(event)
                    if isinstance(typed, ev.AssistantTurn):
                        self.turn_offsets.append(position)
                    elif isinstance(typed, ev.SimulationStarted | ev.SimulationEnded):
                        index = typed.index or max(self.view.simulations, default=0) + 1
                        self.sim_turns.setdefault(index, self.turns)
                    self.view.apply(typed)
                position += len(raw)
            self._offset = position

    def turn_events(self, first: int, last: int) -> list[TurnEvent]:
        """The events of turns `first`..`last` (1-based, inclusive; turn 0 is the brief before turn 1),
        read from the file between the turns' offsets only."""
        self.refresh()
        with self._lock:
            offsets, end_offset = list(self.turn_offsets), self._offset
        if first <= 1:
            start, turn = 0, 0
        elif first - 1 < len(offsets):
            start, turn = offsets[first - 1], first - 1
        else:
            return []
        stop = offsets[last] if last < len(offsets) else end_offset
        found: list[TurnEvent] = []
        try:
            with self.path.open("rb") as handle:
                handle.seek(start)
                data = handle.read(max(stop - start, 0))
        except OSError:
            return []
        for raw in data.splitlines():
            event = parse_line(raw)
            if event is None:
                continue
            typed = ev.parse_event(event)
            if isinstance(typed, ev.AssistantTurn):
                turn += 1
            found.append(TurnEvent(turn, event, typed))
        return found

    def search(self, needle: str, limit: int) -> list[SearchHit]:
        """Events whose line contains `needle` (case-insensitive), with their turn."""
        self.refresh()
        with self._lock:
            offsets, end_offset = list(self.turn_offsets), self._offset
        key = needle.lower().encode("utf-8")
        hits: list[SearchHit] = []
        turn, next_turn, position = 0, 0, 0
        try:
            handle = self.path.open("rb")
        except OSError:
            return []
        with handle:
            for raw in handle:
                if position >= end_offset:
                    break
                while next_turn < len(offsets) and offsets[next_turn] <= position:
                    next_turn += 1
                    turn = next_turn
                position += len(raw)
                if key not in raw.lower():
                    continue
                event = parse_line(raw)
                if event is None:
                    continue
                text = _searchable_text(ev.parse_event(event))
                if needle.lower() in text.lower():
                    hits.append(SearchHit(self.index, turn, str(event.get("type")), text))
                    if len(hits) >= limit:
                        break
        return hits


def _searchable_text(event: ev.Event) -> str:
    """What a person searches for in an event: its words, commands and outputs."""
    if isinstance(event, ev.AssistantTurn):
        commands = " ".join(c.command or "" for c in event.tool_calls)
        return "\n".join(t for t in (event.reasoning, event.text, commands) if t)
    if isinstance(event, ev.ToolResult):
        return f"{event.command or event.name}\n{event.output}"
    if isinstance(event, ev.SupervisorSpoke):
        return f"{event.trigger}: {event.text}"
    if isinstance(event, ev.UserMessage):
        return event.text
    if isinstance(event, ev.SimulationEnded):
        return f"simulation {event.index} {event.kind} {event.claimed_score} {event.error or ''}"
    if isinstance(event, ev.CommandStarted):
        return event.command
    return ""


class RunIndex:
    """Many runs' transcripts, each folded incrementally; thread-safe."""

    def __init__(self) -> None:
        self._transcripts: dict[Path, TranscriptIndex] = {}
        self._lock = threading.Lock()

    def transcript(self, run_dir: Path, index: int, metric: Metric) -> TranscriptIndex:
        path = Path(run_dir) / f"ctx-{index}" / TRANSCRIPT_FILE
        with self._lock:
            found = self._transcripts.get(path)
            if found is None or found.metric != metric:
                found = self._transcripts[path] = TranscriptIndex(path, index, metric)
        return found

    def run(self, run_dir: Path) -> RunView:
        """What `read_run(run_dir)` returns, from the folded transcripts."""
        run_dir = Path(run_dir)
        doc = load_doc(run_dir)
        lock = probe_lock(run_dir)
        indices = {entry.context for entry in doc.contexts} | set(_context_folders(run_dir))
        contexts = []
        for index in sorted(indices):
            view = self.transcript(run_dir, index, doc.metric).refresh()
            view.entry = doc.context(index)
            view.live = lock.held
            contexts.append(view)
        return RunView(run_dir=run_dir, doc=doc, contexts=contexts, lock=lock)
