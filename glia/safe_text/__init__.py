"""One sanitiser per output medium for text Glia did not write (designs, Researchers, problem folders).

`console` makes untrusted text safe for a terminal (no escape sequences, no Rich markup, no fake lines);
`markdown` makes it safe for Markdown files (no headings, HTML, links or fence breaks it did not mean);
`chars` is the character-level rule both share: what is invisible or moves the cursor is shown visibly.
"""

from glia.safe_text.chars import visible
from glia.safe_text.console import console_plain, console_text
from glia.safe_text.markdown import md_code, md_fence, md_html_text, md_inline, md_prose

__all__ = [
    "console_plain",
    "console_text",
    "md_code",
    "md_fence",
    "md_html_text",
    "md_inline",
    "md_prose",
    "visible",
]
