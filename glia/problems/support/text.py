"""Text of an evaluator's values and exceptions that cannot fail: a problem folder's objects are
hostile input, and a `repr` or `str` that raises must not crash the harness (the run would end with no
summary, and its cause would be lost). Standard library only: it runs in the evaluation's sandbox."""

from __future__ import annotations

from typing import Any


def value_text(value: Any, limit: int) -> str:
    """`value` itself if a string, else its repr; cut to `limit` characters, saying how many more."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = repr(value)
            if not isinstance(text, str):
                raise TypeError(f"__repr__ returned {type(text).__name__}")
        except Exception as exc:  # noqa: BLE001 - any failure of the object's own repr
            text = f"<unprintable {_type_name(value)}: its repr raised {_type_name(exc)}>"
    return text if len(text) <= limit else text[:limit] + f"[... {len(text) - limit} more characters]"


def exception_text(exc: BaseException) -> str:
    """`str(exc)`, or a placeholder naming its type when that raises."""
    try:
        text = str(exc)
        if not isinstance(text, str):
            raise TypeError(f"__str__ returned {type(text).__name__}")
        return text
    except Exception as failure:  # noqa: BLE001 - any failure of the exception's own __str__
        return f"<unprintable {_type_name(exc)}: its str raised {_type_name(failure)}>"


def _type_name(value: Any) -> str:
    try:
        return str(type(value).__name__)[:100]
    except Exception:  # noqa: BLE001 - a metaclass can make even this fail
        return "object"
