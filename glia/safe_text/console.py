"""The one way to show untrusted text on a console (tables, live progress, errors, logs).

A value becomes a `rich.text.Text` (never parsed as Rich markup, no `:emoji:` codes) on one line:
escape sequences, other control characters, bidirectional overrides, zero-width characters and line
separators are shown as visible escapes, and its length is capped with a marker. So a reason or output
from a design cannot colour, move the cursor, overwrite or start a line that reads like Glia's own.
"""

from __future__ import annotations

from rich.text import Text

from glia.safe_text.chars import capped, visible

DEFAULT_LIMIT = 300


def console_plain(value: object, limit: int | None = DEFAULT_LIMIT, multiline: bool = False) -> str:
    """Plain-string variant (stderr lines, logs, `print`): one line, hidden characters visible.

    `multiline` keeps line breaks but indents every continuation line, so no line of the value can
    begin at the margin where Glia's own lines begin (used for tracebacks)."""
    text = capped(visible(value, keep_newlines=multiline), limit)
    if multiline:
        return text.replace("\n", "\n    | ")
    return text


def console_text(value: object, limit: int | None = DEFAULT_LIMIT, style: str = "") -> Text:
    """A Rich `Text` of the value, safe to print or put in a table cell."""
    return Text(console_plain(value, limit), style=style, no_wrap=False)
