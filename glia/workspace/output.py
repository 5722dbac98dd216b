"""Command output: the full text goes to a log file, the model sees a head + tail excerpt.

Output is streamed to disk chunk by chunk and only a bounded head and tail are kept in memory, so a
command printing gigabytes costs no more memory than one printing a page.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

LOG_NAME = re.compile(r"cmd-(\d+)\.log$")


class CommandLogs:
    """Hands out `outputs/cmd-<n>.log` paths, numbered on from what is already there (resume-safe)."""

    def __init__(self, outputs_dir: Path) -> None:
        self.outputs_dir = outputs_dir
        outputs_dir.mkdir(parents=True, exist_ok=True)
        numbers = [int(m.group(1)) for p in outputs_dir.iterdir() if (m := LOG_NAME.match(p.name))]
        self._last = max(numbers, default=0)
        self._lock = threading.Lock()

    def next_path(self) -> Path:
        with self._lock:
            self._last += 1
            return self.outputs_dir / f"cmd-{self._last}.log"


class OutputCapture:
    """Writes every byte to `path`; remembers enough of the start and end for an excerpt.

    UTF-8 needs at most 4 bytes a character, so 4 * limit bytes at each end always cover `limit`
    characters.
    """

    def __init__(self, path: Path, limit_chars: int) -> None:
        self.path = path
        self.limit_chars = limit_chars
        self.total_bytes = 0
        self._keep = 4 * max(limit_chars, 1)
        self._head = bytearray()
        self._tail = bytearray()
        self._file = path.open("wb")

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._file.write(chunk)
        self.total_bytes += len(chunk)
        room = self._keep - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self._tail += chunk
            if len(self._tail) > 2 * self._keep:
                del self._tail[: len(self._tail) - self._keep]

    def close(self) -> None:
        self._file.close()

    def excerpt(self) -> tuple[str, bool]:
        """(text shown to the model, whether it was truncated)."""
        gap = self.total_bytes - len(self._head) - len(self._tail)
        if gap == 0:
            text = (self._head + self._tail).decode("utf-8", errors="replace")
            if len(text) <= self.limit_chars:
                return text, False
            head_text, tail_text = text, text
        else:
            head_text = self._head.decode("utf-8", errors="replace")
            tail_text = self._tail.decode("utf-8", errors="replace")
        return truncate_middle(head_text, tail_text, self.limit_chars, self.total_bytes, self.path), True


def truncate_middle(head_text: str, tail_text: str, limit_chars: int, total_bytes: int, path: Path) -> str:
    """Keep the first and last parts of the output and say, in the middle, what was cut and where it is."""
    head_chars = limit_chars // 2
    tail_chars = limit_chars - head_chars
    head = head_text[:head_chars]
    tail = tail_text[-tail_chars:] if tail_chars else ""
    shown_bytes = len(head.encode("utf-8", errors="replace")) + len(tail.encode("utf-8", errors="replace"))
    cut_bytes = max(total_bytes - shown_bytes, 0)
    marker = (
        f"\n[... output truncated: {cut_bytes} of {total_bytes} bytes cut here, showing the first "
        f"{len(head)} and last {len(tail)} characters. The full output is saved outside the sandbox "
        f"as {path.parent.name}/{path.name}; to see more, rerun the command piped through grep, head "
        f"or tail, or redirect it to a file and inspect that. ...]\n"
    )
    return head + marker + tail


def excerpt_of_file(path: Path, limit_chars: int) -> tuple[str, bool, int]:
    """(excerpt, truncated, total bytes) of an output file written by someone else (the local backend)."""
    total = path.stat().st_size
    keep = 4 * max(limit_chars, 1)
    with path.open("rb") as handle:
        if total <= 2 * keep:
            data = handle.read()
            text = data.decode("utf-8", errors="replace")
            if len(text) <= limit_chars:
                return text, False, total
            return truncate_middle(text, text, limit_chars, total, path), True, total
        head = handle.read(keep).decode("utf-8", errors="replace")
        handle.seek(total - keep)
        tail = handle.read(keep).decode("utf-8", errors="replace")
    return truncate_middle(head, tail, limit_chars, total, path), True, total
