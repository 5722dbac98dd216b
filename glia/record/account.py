"""The Researcher's finish summary as plain text: its own account, always shown as unverified.

Written once here for the two places that show it, the context's notes and the run's best/ explanation.
"""

from __future__ import annotations

import json
from typing import Any

ACCOUNT_LABEL = "The Researcher's own account, unverified:"


def account_text(finish_summary: Any) -> str:
    """The finish summary as plain text: one titled paragraph per field, fields with the same text once."""
    if not isinstance(finish_summary, dict):
        return _as_text(finish_summary)
    groups: dict[str, list[str]] = {}
    for key, value in finish_summary.items():
        if value in (None, "", [], {}):
            continue
        groups.setdefault(_as_text(value), []).append(str(key).replace("_", " "))
    return "\n\n".join(f"{' / '.join(keys).capitalize()}:\n{text}" for text, keys in groups.items())


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return "\n".join(f"- {_as_text(item)}" for item in value)
    return json.dumps(value, indent=2, default=str)
