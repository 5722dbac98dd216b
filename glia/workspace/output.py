"""Command output: a capped log file on the host, and a head + tail excerpt for the model.

Output is streamed to disk chunk by chunk until the log holds `keep_bytes`; after that only the last
`keep_bytes` are remembered (in memory) and written at the end behind a marker saying how many bytes
were cut. So a command printing gigabytes costs at most 2 x keep_bytes of disk and about as much memory
as one printing a page plus the kept tail, and the model's excerpt is exactly what it always was.
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


DEFAULT_KEEP_BYTES = 4 * 2**20


class _TailBuffer:
    """The last `size` bytes written, in at most 2 x size of memory."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data = bytearray()

    def add(self, chunk: bytes) -> None:
        if len(chunk) >= self.size:
            self._data[:] = chunk[-self.size :] if self.size else b""
            return
        self._data += chunk
        if len(self._data) > 2 * self.size:
            del self._data[: len(self._data) - self.size]

    def value(self) -> bytes:
        return bytes(self._data[-self.size :]) if self.size else b""


class OutputCapture:
    """Logs a command's output to `path` (head and tail when long); remembers an excerpt's worth.

    UTF-8 needs at most 4 bytes a character, so 4 * limit bytes at each end always cover `limit`
    characters.
    """

    def __init__(self, path: Path, limit_chars: int, keep_bytes: int = DEFAULT_KEEP_BYTES) -> None:
        self.path = path
        self.limit_chars = limit_chars
        self.keep_bytes = max(keep_bytes, 0)
        self.total_bytes = 0
        self._keep = 4 * max(limit_chars, 1)
        self._head = bytearray()
        self._tail = _TailBuffer(self._keep)
        self._log_tail = _TailBuffer(self.keep_bytes)
        self._logged = 0  # bytes written straight to the log (the head)
        self._file = path.open("wb")
        self._closed = False

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.total_bytes += len(chunk)
        room = self.keep_bytes - self._logged
        if room > 0:
            self._file.write(chunk[:room])
            self._file.flush()  # on disk as it comes: after a kill -9, recovery shows what the command printed
            self._logged += min(room, len(chunk))
        if len(chunk) > room:
            self._log_tail.add(chunk[max(room, 0) :])
        room = self._keep - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self._tail.add(chunk)

    @property
    def cut_bytes(self) -> int:
        """Bytes of output the log file does not hold (the middle of a long output)."""
        return max(self.total_bytes - self._logged - self.keep_bytes, 0)

    def close(self) -> None:
        """Write the kept tail (behind a marker when the middle was cut) and close the log."""
        if self._closed:
            return
        self._closed = True
        try:
            tail = self._log_tail.value()
            if self.cut_bytes:
                self._file.write(
                    f"\n[... glia: {self.cut_bytes} bytes of output cut here; this log keeps the first and "
                    f"last {self.keep_bytes} of {self.total_bytes} bytes ...]\n".encode()
                )
            self._file.write(tail)
        finally:
            self._file.close()

    def excerpt(self) -> tuple[str, bool]:
        """(text shown to the model, whether it was truncated)."""
        tail = self._tail.value()
        gap = self.total_bytes - len(self._head) - len(tail)
        if gap == 0:
            text = (self._head + tail).decode("utf-8", errors="replace")
            if len(text) <= self.limit_chars:
                return text, False
            head_text, tail_text = text, text
        else:
            head_text = self._head.decode("utf-8", errors="replace")
            tail_text = tail.decode("utf-8", errors="replace")
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
        f"{len(head)} and last {len(tail)} characters. The output is saved outside the sandbox "
        f"as {path.parent.name}/{path.name}; to see more, rerun the command piped through grep, head "
        f"or tail, or redirect it to a file and inspect that. ...]\n"
    )
    return head + marker + tail
