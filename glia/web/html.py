"""The one HTML sanitiser of the browser view: every byte a page shows goes through here.

Everything in a run folder was written by a Researcher or a design, so nothing from it is ever trusted as
markup. Templates are rendered by a Jinja2 environment with autoescaping always on; markup built in
Python (the SVG plots, linkified text) is built only with `markupsafe`'s `Markup.format`, which escapes
every argument. Links made from run content pass `safe_href`: http(s) and relative addresses only,
never `javascript:`, `data:` or any other scheme. Research notes are shown as text, never as Markdown
turned into HTML.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

__all__ = ["Markup", "environment", "escape", "linkify", "safe_href", "clean_text", "url_part"]

# C0/C1 control characters other than tab and newline: terminal escape sequences and friends, shown as
# visible replacement glyphs rather than passed to the browser.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_SAFE_SCHEMES = ("http", "https")


def clean_text(value: Any) -> str:
    """Text with control characters (ANSI escapes, NUL, bidi overrides) made visible and harmless."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) == "Cf" and ch not in "\u200d" else ch for ch in text
    )


def safe_href(value: Any) -> str:
    """`value` if it is an http(s) or relative address, else `#` (never a script or data scheme)."""
    text = "" if value is None else str(value).strip()
    if not text or _CONTROL.search(text) or any(ch.isspace() for ch in text):
        return "#"
    parts = urlsplit(text)
    if parts.scheme:
        return text if parts.scheme.lower() in _SAFE_SCHEMES and parts.netloc else "#"
    if text.startswith("//") or "\\" in text or ":" in text.split("/", 1)[0]:
        return "#"  # protocol-relative or a scheme in disguise
    return text


def url_part(value: Any) -> str:
    """One path segment of an address we build (a run id, a sha), percent-encoded."""
    return quote("" if value is None else str(value), safe="")


def linkify(value: Any) -> Markup:
    """Escaped text in which http(s) addresses become links that open away from the viewer."""
    text = clean_text(value)
    pieces: list[Markup] = []
    last = 0
    for match in _URL.finditer(text):
        pieces.append(escape(text[last : match.start()]))
        url = match.group().rstrip(".,;:)]}")
        pieces.append(
            Markup('<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>').format(
                safe_href(url), url
            )
        )
        pieces.append(escape(match.group()[len(url) :]))
        last = match.end()
    pieces.append(escape(text[last:]))
    return Markup("").join(pieces)


def number(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.1f}%"


def short(value: Any, width: int = 12) -> str:
    text = clean_text(value)
    return text if len(text) <= width else text[:width]


def environment() -> Environment:
    """The Jinja2 environment of every page: autoescape on for everything, undefined names are errors."""
    env = Environment(
        loader=PackageLoader("glia.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        text=clean_text, href=safe_href, seg=url_part, linkify=linkify, num=number, pct=percent, short=short
    )
    return env
