"""Research notes: a context's transcript rendered as a lab notebook in Markdown.

Called by the context loop while the run works, so rendering is a pure function of the run folder (read
through `glia.record.view`): fast, idempotent, and it never raises on an odd event. A reader who skims
only the headings and the highlighted lines should still follow the research story: each turn, each
simulation where the command that ran it stands (a claim with the running best claim, an experiment with
its conditions and number, never ranked against claims), the Supervisor's words, and at the end the
trusted verdict on the design, with the reason when it was rejected.

- `render`: notes.md of one context folder, or of every context of a run (the entry points);
- `notebook`: the walk over the events, one handler per event type;
- `simulations`: one simulation's heading, as a claim against the running best or as an experiment;
- `closing`: the summary table and the closing sections (the final design, the trusted verdict);
- `text`: folding long output and reasoning, the finish summary's block;
- `diff`: the final design's diff against the template.
"""

from glia.notes.diff import DIFF_MAX_LINES
from glia.notes.diff import design_diff as _design_diff  # tests/security/test_host_boundary.py's name
from glia.notes.render import render_notes, write_notes, write_run_notes
from glia.notes.text import OUTPUT_FOLD_CHARS, THINKING_FOLD_CHARS, summary_text

__all__ = [
    "DIFF_MAX_LINES",
    "OUTPUT_FOLD_CHARS",
    "THINKING_FOLD_CHARS",
    "_design_diff",
    "render_notes",
    "summary_text",
    "write_notes",
    "write_run_notes",
]
