"""Values on the wire: JSON, plus a few tagged types, decoded as hostile input.

Why JSON and not pickle: unpickling runs code chosen by the sender, and the sender may be a design
trying to escape. JSON decoding can only build dicts, lists, strings and numbers; the tags below add
bytes and numeric numpy arrays, rebuilt from plain data with a whitelist of dtypes (numpy is loaded
only when an array arrives). Tuples arrive as
lists, as in any JSON. Anything malformed, too deep or too large raises CodecError. Plain data costs
nothing extra: the tag hooks run only for types JSON does not know and for dicts.
"""

from __future__ import annotations

import base64
import json
import json.encoder
import sys
from typing import Any

TAG = "__glia__"
# Plain numeric dtypes only: object, string and structured dtypes could smuggle anything.
SAFE_DTYPES = frozenset(
    {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
    | {"float16", "float32", "float64", "complex64", "complex128"}
)
MAX_ARRAY_BYTES = 64 * 2**20


class CodecError(ValueError):
    """A payload could not be encoded, or a received one is malformed."""


def encode(value: Any) -> bytes:
    """`value` as compact UTF-8 JSON; bytes and numpy values are tagged, tuples become lists."""
    try:
        return "".join(_iterencode(value, 0)).encode()
    except (TypeError, ValueError, RecursionError) as exc:
        raise CodecError(f"cannot encode a {type(value).__name__}: {exc}") from None


def decode(data: bytes | bytearray) -> Any:
    """The value sent as `data`; CodecError for anything that is not a well-formed payload."""
    try:
        text = data.decode("utf-8")
        try:  # the common case, one C call: a payload as `encode` writes it (no surrounding spaces)
            value, end = _scan_once(text, 0)
            if end == len(text):
                return value
        except StopIteration:
            pass
        return _DECODER.decode(text)  # anything else, with the full decoder's rules and messages
    except CodecError:
        raise
    except (ValueError, TypeError, RecursionError, UnicodeDecodeError) as exc:
        raise CodecError(f"malformed payload: {type(exc).__name__}: {str(exc)[:200]}") from None


def _loaded_numpy() -> Any:
    """numpy if this process has imported it, else None. Never imported here: a numpy value can exist
    only where numpy is loaded, and importing it would cost a design host more CPU time than a whole
    benchmark run's channel traffic."""
    return sys.modules.get("numpy")


def _default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {TAG: "bytes", "b64": base64.b64encode(bytes(value)).decode()}
    _np = _loaded_numpy()
    if _np is not None:
        if isinstance(value, _np.ndarray):
            if value.dtype.name not in SAFE_DTYPES:
                raise TypeError(f"arrays of dtype {value.dtype} cannot cross the channel")
            data = _np.ascontiguousarray(value)
            return {
                TAG: "ndarray",
                "dtype": value.dtype.name,
                "shape": list(value.shape),
                "b64": base64.b64encode(data.tobytes()).decode(),
            }
        if isinstance(value, _np.generic):
            return value.item()
    raise TypeError(f"{type(value).__name__} is not plain data")


def _untag(obj: dict[str, Any]) -> Any:
    kind = obj.get(TAG)
    if kind is None:
        return obj
    if kind == "bytes" and isinstance(obj.get("b64"), str):
        return _b64(obj["b64"])
    if kind == "ndarray":
        return _array(obj)
    raise CodecError(f"unknown or malformed tag {kind!r}")


# Built once: json.dumps / json.loads with options build a new coder on every call, and so does
# JSONEncoder.encode (measurable here, where a simulation exchanges tens of thousands of small
# messages). The C encoder is made without a circular-reference check: a value that contains itself
# ends in RecursionError instead, which `encode` reports the same way.
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=True, default=_default)
_DECODER = json.JSONDecoder(object_hook=_untag)
_scan_once = _DECODER.scan_once
if json.encoder.c_make_encoder is not None:
    _iterencode = json.encoder.c_make_encoder(
        None, _default, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, True
    )
else:  # pragma: no cover - a Python built without the _json accelerator
    _iterencode = _ENCODER.iterencode


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise CodecError(f"bad base64: {exc}") from None


def _array(obj: dict[str, Any]) -> Any:
    try:  # optional: a design host without numpy simply never meets an array
        import numpy as _np
    except ImportError:  # pragma: no cover - exercised only in numpy-less sandboxes
        raise CodecError("received an array but numpy is not installed here") from None
    dtype, shape, text = obj.get("dtype"), obj.get("shape"), obj.get("b64")
    if dtype not in SAFE_DTYPES or not isinstance(text, str):
        raise CodecError(f"array of unsupported dtype {dtype!r}")
    if (
        not isinstance(shape, list)
        or not all(isinstance(n, int) and n >= 0 for n in shape)
        or len(shape) > 32
    ):
        raise CodecError(f"array with a malformed shape {shape!r}")
    raw = _b64(text)
    itemsize = _np.dtype(dtype).itemsize
    count = 1
    for n in shape:
        count *= n
    if len(raw) != count * itemsize or len(raw) > MAX_ARRAY_BYTES:
        raise CodecError("array data does not match its shape, or is too large")
    return _np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
