"""The character rule shared by every medium: a character that is invisible, moves the cursor, changes
text direction or ends a line is replaced by a visible escape (`\\x1b`, `\\u202e`), so what a reader sees
is what the bytes say and an untrusted value cannot draw, erase or reorder anything around it."""

from __future__ import annotations

import unicodedata

# Categories never shown as themselves: controls (C0, C1, DEL), format characters (bidi overrides and
# isolates, zero-width characters, soft hyphen, tags), line and paragraph separators, surrogates.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def escape_char(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(value: object, keep_newlines: bool = False) -> str:
    """`value` as text with every hidden character escaped; tabs become a space. With `keep_newlines`,
    `\\n` (and `\\r\\n`) stay as line breaks; a lone `\\r` is always escaped (it would overwrite the line)."""
    text = str(value)
    if keep_newlines:
        text = text.replace("\r\n", "\n")
    out = []
    for char in text:
        if char == "\n" and keep_newlines:
            out.append(char)
        elif char == "\t":
            out.append(" ")
        elif unicodedata.category(char) in HIDDEN_CATEGORIES:
            out.append(escape_char(char))
        else:
            out.append(char)
    return "".join(out)


def capped(text: str, limit: int | None) -> str:
    """At most `limit` characters plus an honest marker saying how many were cut."""
    if limit is None or len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"
