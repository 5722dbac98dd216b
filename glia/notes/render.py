"""notes.md of one context folder, or of every context of a run: the entry points of `glia.notes`."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from glia.notes.notebook import Notebook
from glia.record import events as ev
from glia.record.transcript import TRANSCRIPT_FILE, read_events
from glia.record.view import read_context
from glia.safe_text import md_code, md_inline


def write_notes(ctx_dir: Path) -> Path:
    """Render ctx_dir/transcript.jsonl into ctx_dir/notes.md (atomically) and return the notes path."""
    ctx_dir = Path(ctx_dir)
    target = ctx_dir / "notes.md"
    try:
        text = render_notes(ctx_dir)
    except Exception as exc:  # notes must never take the run down
        text = f"# Research notes\n\n_Rendering failed: {type(exc).__name__}: {exc}_\n"
    tmp = target.with_name(f".notes.md.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target


def write_run_notes(run_dir: Path) -> list[Path]:
    """Render every context's notes again, e.g. once trusted scores have landed after the contexts ended."""
    run_dir = Path(run_dir)
    folders = sorted((p for p in run_dir.glob("ctx-*") if p.is_dir()), key=lambda p: (len(p.name), p.name))
    return [write_notes(folder) for folder in folders]


def render_notes(ctx_dir: Path) -> str:
    """The notes Markdown for one context folder."""
    ctx_dir = Path(ctx_dir)
    raw_events = read_events(ctx_dir / TRANSCRIPT_FILE)
    run, view = read_context(ctx_dir, raw_events)
    book = Notebook(ctx_dir, run, view)
    for raw in raw_events:
        event = ev.parse_event(raw)
        try:
            book.add(event)
        except Exception as exc:  # one odd event must not hide the rest
            book.lines.append(
                f"\n_(could not render a {md_code(event.type, 40)} event: {md_inline(exc, 300)})_\n"
            )
    return book.finish()
