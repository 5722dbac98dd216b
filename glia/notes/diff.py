"""The final design's diff against the template, for the notebook's closing section."""

from __future__ import annotations

from pathlib import Path

from glia.workspace.history import History, HistoryError

DIFF_MAX_LINES = 400


def design_diff(history_dir: Path, snapshot: str | None) -> str:
    """The diff of the final snapshot against the template commit (the history's first), capped."""
    if not snapshot or not (history_dir / "HEAD").is_file():
        return ""
    try:
        history = History(history_dir)
        diff = history.diff(history.first_commit(), snapshot)
    except (HistoryError, KeyError, OSError, ValueError):
        return ""
    lines = diff.splitlines()
    if len(lines) > DIFF_MAX_LINES:
        lines = [*lines[:DIFF_MAX_LINES], f"… [{len(lines) - DIFF_MAX_LINES} more lines]"]
    return "\n".join(lines)
