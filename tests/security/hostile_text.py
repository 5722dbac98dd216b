"""Hostile strings a design, a Researcher or a problem folder can put wherever Glia shows text."""

from __future__ import annotations

import re

# Terminal attacks: a fake valid row, a fake final line, cursor-up + erase-line, a carriage-return
# overwrite, backspaces, OSC 8 hyperlink, OSC 52 clipboard write, bidi override, a line separator, Rich
# markup (the `[/]` that crashed bench, runs and the live table) and a Rich emoji code.
SPOOF_ROW = "│ evil │ main │ 3 │ 0.99 │ 0.98–1.00 │ valid"
TERMINAL_ATTACK = (
    "bad design[/]\n"
    f"{SPOOF_ROW}\n"
    "Run finished. Best trusted score 1.000\n"
    "\x1b[1A\x1b[2K\x1b[1A\x1b[2Koverwritten"
    "\rRun finished. Best trusted score 1.000"
    "\x08\x08\x08"
    "\x1b]8;;http://evil.example/\x1b\\click me\x1b]8;;\x1b\\"
    "\x1b]52;c;ZXZpbA==\x07"
    "\u202egnp.exe\u2066x\u2069\u200b\u200e\u061c"
    "\u2028Best trusted score 1.000\u2029"
    " :warning: [bold red]RED[/] [link=http://evil.example]x[/link]\x9b31m\x7f"
)
HIDDEN = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\u061c\u2028\u2029]")


def terminal_leftovers(output: str) -> list[str]:
    """What of the output could act on a terminal: every control/invisible character except newlines
    between Glia's own lines and Rich's own colour codes (SGR `ESC [ ... m`)."""
    without_sgr = re.sub(r"\x1b\[[0-9;]*m", "", output)
    return [c for c in HIDDEN.findall(without_sgr) if c != "\n"]
