"""Python values of a program call, as plain data the codec carries, and back.

The codec (`codec.py`) knows JSON, bytes and numeric arrays, and turns tuples into lists. A program's
caller needs more: an evaluator may check `isinstance(result, tuple)`, use integer dictionary keys, or
get back an object (a solver, a generator) whose methods it calls. So before encoding, every value is
rewritten into tagged plain data:

    list                      -> list
    tuple / set / frozenset   -> {"~": "tuple" | "set" | "frozenset", "items": [...]}
    dict (any hashable keys)  -> {"~": "dict", "items": [[key, value], ...]}
    anything else             -> {"~": "ref", "side": "h" | "c", "id": n, "type": name, "callable": bool}

A `ref` names an object that stays where it lives: side "h" is the program host (the untrusted
sandbox), side "c" the core. What a side does with a ref it receives is its own choice (see
`program_host` and `program_proxy`); this module only converts. Decoding is strict: every dict must be
tagged, depth is capped, and a malformed tag raises CodecError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .codec import SAFE_DTYPES, CodecError

try:
    import numpy as _np
except ImportError:  # pragma: no cover - a sandbox without numpy never meets an array
    _np = None

TAG = "~"
MAX_DEPTH = 64
_SCALARS = frozenset({bool, int, float, str, type(None)})  # values JSON carries exactly as they are
SIDES = ("h", "c")

Reference = Callable[[Any], dict[str, Any]]  # an object that is not plain data -> its ref
Resolve = Callable[[str, int, str, bool], Any]  # (side, id, type, callable) -> the local stand-in


def ref(side: str, ref_id: int, obj: Any) -> dict[str, Any]:
    """The tagged form of a reference to `obj`, which lives on `side` under `ref_id`."""
    return {
        TAG: "ref",
        "side": side,
        "id": ref_id,
        "type": type(obj).__name__[:100],
        "callable": callable(obj),
    }


def to_wire(value: Any, reference: Reference, depth: int = 0) -> Any:
    """`value` rewritten as plain data; `reference` is called for every object that is not."""
    if depth > MAX_DEPTH:
        raise CodecError(f"a value nested deeper than {MAX_DEPTH} levels cannot cross")
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return value if type(value) in (bool, int, float, str, bytes, type(None)) else _plain(value)
    if isinstance(value, bytearray):
        return bytes(value)
    if type(value) is list:
        if all(type(item) in _SCALARS for item in value):
            return value  # the common case (a list of numbers) needs no rewriting
        return [to_wire(item, reference, depth + 1) for item in value]
    if type(value) is tuple:
        return {TAG: "tuple", "items": [to_wire(item, reference, depth + 1) for item in value]}
    if type(value) in (set, frozenset):
        kind = "set" if type(value) is set else "frozenset"
        return {TAG: kind, "items": [to_wire(item, reference, depth + 1) for item in value]}
    if type(value) is dict:
        return {
            TAG: "dict",
            "items": [
                [to_wire(k, reference, depth + 1), to_wire(v, reference, depth + 1)] for k, v in value.items()
            ],
        }
    if _np is not None:
        if isinstance(value, _np.ndarray) and value.dtype.name in SAFE_DTYPES:
            return value
        if isinstance(value, _np.generic) and value.dtype.name in SAFE_DTYPES:
            return value.item()
    return reference(value)


def _plain(value: Any) -> Any:
    """A subclass of a plain type (an IntEnum, a str subclass) crosses as its plain value."""
    for kind in (bool, int, float, str, bytes):
        if isinstance(value, kind):
            return kind(value)
    return value  # pragma: no cover - None has no subclasses


def from_wire(value: Any, resolve: Resolve, depth: int = 0) -> Any:
    """The value sent as `value` (already decoded by the codec); refs become `resolve(...)`."""
    if depth > MAX_DEPTH:
        raise CodecError(f"a value nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return value
    if isinstance(value, list):
        if all(type(item) in _SCALARS for item in value):
            return value
        return [from_wire(item, resolve, depth + 1) for item in value]
    if _np is not None and isinstance(value, _np.ndarray):
        return value
    if not isinstance(value, dict):
        raise CodecError(f"unexpected {type(value).__name__} in a program value")
    kind = value.get(TAG)
    items = value.get("items")
    if kind in ("tuple", "set", "frozenset", "dict") and not isinstance(items, list):
        raise CodecError(f"malformed {kind!r} value")
    if kind == "tuple":
        return tuple(from_wire(item, resolve, depth + 1) for item in items)
    if kind in ("set", "frozenset"):
        members = [from_wire(item, resolve, depth + 1) for item in items]
        try:
            return set(members) if kind == "set" else frozenset(members)
        except TypeError as exc:
            raise CodecError(f"a set member is not hashable ({exc})") from None
    if kind == "dict":
        return _dict(items, resolve, depth)
    if kind == "ref":
        side, ref_id, name, is_callable = (value.get(k) for k in ("side", "id", "type", "callable"))
        if (
            side not in SIDES
            or not isinstance(ref_id, int)
            or isinstance(ref_id, bool)
            or not isinstance(name, str)
            or not isinstance(is_callable, bool)
        ):
            raise CodecError("malformed reference")
        return resolve(side, ref_id, name[:100], is_callable)
    raise CodecError(f"unknown value tag {kind!r}")


def _dict(items: list[Any], resolve: Resolve, depth: int) -> dict[Any, Any]:
    result: dict[Any, Any] = {}
    for pair in items:
        if not isinstance(pair, list) or len(pair) != 2:
            raise CodecError("malformed dict item")
        key = from_wire(pair[0], resolve, depth + 1)
        try:
            result[key] = from_wire(pair[1], resolve, depth + 1)
        except TypeError as exc:
            raise CodecError(f"a dict key is not hashable ({exc})") from None
    return result
