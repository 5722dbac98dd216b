"""Python values of a program call, as plain data the codec carries, and back.

The codec (`codec.py`) knows JSON, bytes and numeric arrays, and turns tuples into lists. A program's
caller needs more: an evaluator may check `isinstance(result, tuple)`, use integer dictionary keys, or
get back an object (a solver, a generator) whose methods it calls. So before encoding, every value is
rewritten into tagged plain data:

    list                      -> list
    tuple / set / frozenset   -> {"~": "tuple" | "set" | "frozenset", "items": [...]}
    dict (any hashable keys)  -> {"~": "dict", "items": [[key, value], ...]}
    subclass of list, tuple, dict, set, str, int... -> the plain base value (its contents, nothing else)
    a numeric JAX array (`jax.Array`)               -> the numpy array of its values
    instance of a plain class -> {"~": "obj", "kind": "dataclass" | "namedtuple" | "enum" | "object",
                                  "module": m, "name": qualname, "fields": [[name, value], ...], ...}
    anything else             -> {"~": "ref", "side": "h" | "c", "id": n, "type": name, "callable": bool,
                                  "iterator": bool}

A plain class is one written in Python whose instances are their data: a dataclass, a named tuple, an
enum, or a simple object (every class of its MRO but `object` written in Python, not callable). Which
plain instances a side sends by value is its own policy (`by_value`); the receiver rebuilds them from
their data alone, never by running code the sender chose: as an instance of the class of the same
name when the receiver's `find_class` knows one (on the core's side: a module of the problem folder),
otherwise as a faithful plain copy, a class made here with the same name and fields. A `ref` names an
object that stays where it lives: side "h" is the program host (the untrusted sandbox), side "c" the
core. What a side does with a ref it receives is its own choice (see `program_host` and
`program_proxy`); this module only converts. Decoding is strict: every dict must be tagged, depth is
capped, and a malformed tag raises CodecError.
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import keyword
import sys
import threading
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

MAX_FIELDS = 1000
MAX_NAME_CHARS = 200
COPY_MARK = "__glia_copy__"  # set on the classes this module makes: their instances cross back by value
KINDS = ("dataclass", "namedtuple", "enum", "object")
_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: the class was written in Python, not in C

Reference = Callable[[Any], dict[str, Any]]  # an object that is not plain data -> its ref
Resolve = Callable[..., Any]  # (side, id, type, callable, iterator=...) -> the local stand-in
ByValue = Callable[[type], bool]  # may an instance of this plain class cross by value?
FindClass = Callable[[str, str], Any]  # (module, qualname) -> the receiver's class of that name, or None


def ref(side: str, ref_id: int, obj: Any) -> dict[str, Any]:
    """The tagged form of a reference to `obj`, which lives on `side` under `ref_id`."""
    return {
        TAG: "ref",
        "side": side,
        "id": ref_id,
        "type": type(obj).__name__[:100],
        "callable": callable(obj),
        "iterator": hasattr(type(obj), "__next__"),
    }


def to_wire(value: Any, reference: Reference, depth: int = 0, by_value: ByValue | None = None) -> Any:
    """`value` rewritten as plain data; `reference` is called for every object that is not.

    Plain instances whose class `by_value` accepts are sent as their data (see the module doc)."""
    if depth > MAX_DEPTH:
        raise CodecError(f"a value nested deeper than {MAX_DEPTH} levels cannot cross")
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return value if type(value) in (bool, int, float, str, bytes, type(None)) else _plain(value)
    if isinstance(value, bytearray):
        return bytes(value)

    def inner(item: Any) -> Any:
        return to_wire(item, reference, depth + 1, by_value)

    if type(value) is list:
        if all(type(item) in _SCALARS for item in value):
            return value  # the common case (a list of numbers) needs no rewriting
        return [inner(item) for item in value]
    if type(value) is tuple:
        return {TAG: "tuple", "items": [inner(item) for item in value]}
    if type(value) in (set, frozenset):
        kind = "set" if type(value) is set else "frozenset"
        return {TAG: kind, "items": [inner(item) for item in value]}
    if type(value) is dict:
        return {TAG: "dict", "items": [[inner(k), inner(v)] for k, v in value.items()]}
    if _np is not None:
        if isinstance(value, _np.ndarray) and value.dtype.name in SAFE_DTYPES:
            return value
        if isinstance(value, _np.generic) and value.dtype.name in SAFE_DTYPES:
            return value.item()
        array = _jax_array(value)
        if array is not None:
            return array
    if by_value is not None and plain_class(type(value)) and by_value(type(value)):
        return _instance(value, inner)
    base = _container_base(value)
    if base is not None:  # a subclass (a Counter, a list with its own __eq__): its contents only
        return to_wire(base, reference, depth, by_value)
    return reference(value)


def plain_class(cls: type) -> bool:
    """Whether instances of `cls` are their data: see the module doc."""
    if not isinstance(cls, type) or type(cls) not in (type, enum.EnumMeta) or not cls.__flags__ & _HEAP_TYPE:
        return False
    if issubclass(cls, enum.Enum):
        return True
    if "__call__" in dir(cls):
        return False  # a callable object is a function of its side: it stays a reference
    named_tuple = issubclass(cls, tuple) and isinstance(getattr(cls, "_fields", None), tuple)
    for base in cls.__mro__:
        if base is object or (named_tuple and base is tuple):
            continue
        if not _written_in_python(base):
            return False  # a subclass of a builtin (an exception, a list) or a C extension's type (a lock)
    return True


def _written_in_python(cls: type) -> bool:
    """A class statement made it: its instances hold a __dict__ or __slots__, nothing a C type keeps.

    (The heap-type flag alone is not enough: many C types, `_thread.lock` among them, are heap types.)"""
    if not cls.__flags__ & _HEAP_TYPE:
        return False
    own = vars(cls)
    if "__slots__" in own or "__dict__" in own:
        return True
    parent = cls.__base__
    return (
        parent is not None
        and parent is not object
        and cls.__basicsize__ == parent.__basicsize__
        and _written_in_python(parent)
    )


def _instance(value: Any, inner: Callable[[Any], Any]) -> dict[str, Any]:
    cls = type(value)
    wire: dict[str, Any] = {TAG: "obj", "module": str(cls.__module__), "name": cls.__qualname__}
    if issubclass(cls, enum.Enum):
        members = list(cls.__members__.items())[:MAX_FIELDS]
        wire.update(kind="enum", member=value.name, fields=[[n, inner(m.value)] for n, m in members])
        return wire
    if issubclass(cls, tuple):
        wire.update(
            kind="namedtuple", fields=[[n, inner(v)] for n, v in zip(cls._fields, value, strict=True)]
        )
        return wire
    state = dict(vars(value)) if hasattr(value, "__dict__") else {}
    for klass in cls.__mro__:
        for slot in _slots(klass):
            if slot not in ("__dict__", "__weakref__") and hasattr(value, slot):
                state[slot] = getattr(value, slot)
    if dataclasses.is_dataclass(cls):
        wire.update(kind="dataclass", frozen=bool(cls.__dataclass_params__.frozen))  # type: ignore[attr-defined]
    else:
        wire["kind"] = "object"
    if len(state) > MAX_FIELDS:
        raise CodecError(f"a {cls.__name__} with more than {MAX_FIELDS} attributes cannot cross")
    wire["fields"] = [[str(n), inner(v)] for n, v in state.items()]
    return wire


def _slots(cls: type) -> tuple[str, ...]:
    slots = vars(cls).get("__slots__", ())
    return (slots,) if isinstance(slots, str) else tuple(slots)


def _container_base(value: Any) -> Any:
    """The plain value inside an instance of a subclass of a container type, else None."""
    for kind, copy in ((list, list.copy), (dict, dict.copy), (set, set.copy), (frozenset, frozenset.copy)):
        if isinstance(value, kind):
            return copy(value)  # the base type's own copy: exactly a `kind`, made without the subclass's code
    if isinstance(value, tuple):
        return tuple.__getitem__(value, slice(None))
    return None


def _jax_array(value: Any) -> Any:
    """A JAX array (`jax.Array`: the alphaevolve_math_problems programs return their loss as one) as
    the numpy array of its values, when they are numbers; None for anything else. Only the side holding
    the array converts it (where `jax` is imported); what crosses is a plain numeric array, which the
    receiver checks like any other."""
    jax = sys.modules.get("jax")
    array_type = getattr(jax, "Array", None) if jax is not None else None
    if not isinstance(array_type, type) or not isinstance(value, array_type):
        return None
    try:
        converted = _np.asarray(value)
    except Exception:  # noqa: BLE001 - an array that cannot be read stays a reference
        return None
    if type(converted) is not _np.ndarray or converted.dtype.name not in SAFE_DTYPES:
        return None
    return converted


def _plain(value: Any) -> Any:
    """A subclass of a plain type (an IntEnum, a str subclass) crosses as its plain value."""
    for kind in (bool, int, float, str, bytes):
        if isinstance(value, kind):
            return kind(value)
    return value  # pragma: no cover - None has no subclasses


def from_wire(value: Any, resolve: Resolve, depth: int = 0, find_class: FindClass | None = None) -> Any:
    """The value sent as `value` (already decoded by the codec); refs become `resolve(...)`, plain
    instances are rebuilt with `find_class`'s class or as plain copies (see the module doc)."""
    if depth > MAX_DEPTH:
        raise CodecError(f"a value nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return value
    if isinstance(value, list):
        if all(type(item) in _SCALARS for item in value):
            return value
        return [from_wire(item, resolve, depth + 1, find_class) for item in value]
    if _np is not None and isinstance(value, _np.ndarray):
        return value
    if not isinstance(value, dict):
        raise CodecError(f"unexpected {type(value).__name__} in a program value")
    kind = value.get(TAG)
    items = value.get("items")
    if kind in ("tuple", "set", "frozenset", "dict") and not isinstance(items, list):
        raise CodecError(f"malformed {kind!r} value")
    if kind == "tuple":
        return tuple(from_wire(item, resolve, depth + 1, find_class) for item in items)
    if kind in ("set", "frozenset"):
        members = [from_wire(item, resolve, depth + 1, find_class) for item in items]
        try:
            return set(members) if kind == "set" else frozenset(members)
        except TypeError as exc:
            raise CodecError(f"a set member is not hashable ({exc})") from None
    if kind == "dict":
        return _dict(items, resolve, depth, find_class)
    if kind == "obj":
        return _rebuild(value, lambda item: from_wire(item, resolve, depth + 1, find_class), find_class)
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
        return resolve(side, ref_id, name[:100], is_callable, iterator=value.get("iterator") is True)
    raise CodecError(f"unknown value tag {kind!r}")


def _dict(items: list[Any], resolve: Resolve, depth: int, find_class: FindClass | None) -> dict[Any, Any]:
    result: dict[Any, Any] = {}
    for pair in items:
        if not isinstance(pair, list) or len(pair) != 2:
            raise CodecError("malformed dict item")
        key = from_wire(pair[0], resolve, depth + 1, find_class)
        try:
            result[key] = from_wire(pair[1], resolve, depth + 1, find_class)
        except TypeError as exc:
            raise CodecError(f"a dict key is not hashable ({exc})") from None
    return result


# -- rebuilding plain instances on the receiving side ----------------------------------------------

_copies: dict[tuple[Any, ...], type] = {}
_copies_lock = threading.Lock()
MAX_COPY_CLASSES = 512


def _rebuild(wire: dict[str, Any], inner: Callable[[Any], Any], find_class: FindClass | None) -> Any:
    """An instance rebuilt from its data: no code the sender chose runs (no __init__, no __setstate__)."""
    kind, module, name, fields = (wire.get(k) for k in ("kind", "module", "name", "fields"))
    if kind not in KINDS or not _dotted(module) or not _dotted(name) or not isinstance(fields, list):
        raise CodecError("malformed plain instance")
    if len(fields) > MAX_FIELDS:
        raise CodecError(f"a plain instance with more than {MAX_FIELDS} fields")
    names: list[str] = []
    values: list[Any] = []
    for pair in fields:
        if not (isinstance(pair, list) and len(pair) == 2 and _field_name(pair[0])):
            raise CodecError("malformed field of a plain instance")
        names.append(pair[0])
        values.append(inner(pair[1]))
    if len(set(names)) != len(names):
        raise CodecError("a plain instance names a field twice")
    frozen = wire.get("frozen") is True
    cls = find_class(module, name) if find_class is not None else None
    if not _fits(cls, kind, names, wire):
        cls = _copy_class(kind, module, name, names, values, frozen)
    try:
        if kind == "enum":
            member = wire.get("member")
            if not isinstance(member, str) or member not in cls.__members__:
                raise CodecError("an enum value names no member of its enum")
            return cls.__members__[member]
        if kind == "namedtuple":
            return tuple.__new__(cls, values)
        obj = object.__new__(cls)
        for field_name, field_value in zip(names, values, strict=True):
            object.__setattr__(obj, field_name, field_value)
        return obj
    except (TypeError, AttributeError, ValueError) as exc:
        raise CodecError(f"a {name} could not be rebuilt from its data ({exc})") from None


def _fits(cls: Any, kind: str, names: list[str], wire: dict[str, Any]) -> bool:
    """Whether the receiver's class `cls` is of the kind sent and has the fields sent."""
    if not isinstance(cls, type) or not plain_class(cls):
        return False
    if kind == "enum":
        return issubclass(cls, enum.Enum) and wire.get("member") in cls.__members__
    if kind == "namedtuple":
        return issubclass(cls, tuple) and tuple(getattr(cls, "_fields", ())) == tuple(names)
    if issubclass(cls, tuple | enum.Enum):
        return False
    if kind == "dataclass":
        return dataclasses.is_dataclass(cls) and set(names) <= {f.name for f in dataclasses.fields(cls)}
    return not dataclasses.is_dataclass(cls)


def _copy_class(kind: str, module: str, name: str, names: list[str], values: list[Any], frozen: bool) -> type:
    """A class made here, with the sender's class's name and fields, and nothing of its code."""
    key = (kind, module, name, tuple(names), frozen, tuple(map(repr, values)) if kind == "enum" else ())
    with _copies_lock:
        made = _copies.get(key)
    if made is not None:
        return made
    short = name.rsplit(".", 1)[-1]
    try:
        if kind == "dataclass":
            namespace = {COPY_MARK: True, "__getattr__": _copy_missing}
            made = dataclasses.make_dataclass(short, names, frozen=frozen, namespace=namespace)
        elif kind == "namedtuple":
            made = collections.namedtuple(short, names)  # type: ignore[misc]
        elif kind == "enum":
            made = enum.Enum(short, list(zip(names, values, strict=True)))  # type: ignore[misc]
        else:
            made = type(short, (), {COPY_MARK: True, "__repr__": _copy_repr, "__eq__": _copy_eq, "__hash__": None,
                                    "__getattr__": _copy_missing})  # fmt: skip
    except (TypeError, ValueError) as exc:
        raise CodecError(f"a {name} could not be copied ({exc})") from None
    type.__setattr__(made, COPY_MARK, True)
    made.__module__, made.__qualname__ = module, name
    with _copies_lock:
        if len(_copies) < MAX_COPY_CLASSES:
            _copies[key] = made
    return made


class CopyMissing(AttributeError):
    """An attribute that a plain copy lacks: its class's methods stayed with the sender (a Glia fault,
    reported by this class's name: the same object in process would have had it)."""


def _copy_missing(self: Any, name: str) -> Any:
    cls = type(self)
    if name.startswith("__") and name.endswith("__"):
        raise AttributeError(name)
    raise CopyMissing(
        f"{cls.__qualname__}.{name} is not there: this {cls.__qualname__} is a plain copy of "
        f"{cls.__module__}.{cls.__qualname__} (its data crossed, its code did not); put the class in a module of "
        "the problem folder, which both sides import, or pass plain data"
    )


def _copy_repr(self: Any) -> str:
    fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
    return f"{type(self).__qualname__}({fields})"


def _copy_eq(self: Any, other: Any) -> Any:
    if type(other) is not type(self):
        return NotImplemented
    return vars(self) == vars(other)


def _dotted(text: Any) -> bool:
    return (
        isinstance(text, str)
        and 0 < len(text) <= MAX_NAME_CHARS
        and all(
            (part.isidentifier() and not keyword.iskeyword(part)) or part == "<locals>"
            for part in text.split(".")
        )
    )


def _field_name(text: Any) -> bool:
    return (
        isinstance(text, str)
        and len(text) <= MAX_NAME_CHARS
        and text.isidentifier()
        and not (text.startswith("__") and text.endswith("__"))
        and not text.startswith("_glia")
    )
