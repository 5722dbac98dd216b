"""The core's side of an isolated program: a stand-in module whose names reach the program's sandbox.

Glia's harness hands the problem's evaluator the path of a generated stand-in file instead of the
program. The file does one thing, `stand_in(globals(), ...)`:

* imported (`exec_module`, `import`): the module gets the program's top-level functions and classes as
  remote callables, and any other name is looked up in the program's sandbox on use. Calls cross as
  plain data (`program_values`), instances of plain classes included (rebuilt here as the problem
  folder's own class of that name, or as a plain copy). Objects that cannot cross by value come back
  as `RemoteObject`s: their attributes, methods, calls, iteration and indexing are forwarded, since
  using them is the program's job; but comparing them, hashing them, testing their truth, taking
  their length, `in`, numeric conversion and arithmetic are refused (`Refused`), because the program
  would decide the answer and would see the evaluator's operand. The judge decides comparisons.
* run as a script (`python program.py ARGS`): the program runs as `__main__` in its sandbox, with
  these arguments and this process's standard input; its output and exit status are relayed here.

Every thread of every process that uses the stand-in opens its own connection to the program host
(`program_host`), all in the stand-in's session, so threads and subprocesses work as they would with
the real program. What the host sends is hostile: values are decoded strictly, every call has the
deadline of the whole evaluation, and dunder attributes are never fetched from it (a forged
`__array_interface__` would make numpy read memory at an address the program chose).

A *fault* is a failure that is not the program's own answer: its process exited, crashed, hung past
the deadline, flooded the channel or broke the protocol; a module it imports is missing in its
sandbox; or Glia's crossing refused something (a value that cannot cross, an operation above).
Faults are written to the harness's fault file, so the evaluation is invalid even if the evaluator
catches the exception (`ProgramFailed`) that the call raises. An exception the program raises is re-raised here as the
builtin exception of the same name when there is one (`ProgramError` otherwise), for the evaluator to
handle as it would in process.
"""

from __future__ import annotations

import builtins
import contextlib
import itertools
import os
import stat
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

from .channel import Channel, ChannelError, RemoteError, connect
from .codec import CodecError
from .program_values import from_wire, ref, to_wire

MAX_RELAYED_BYTES = 17 * 2**20  # a little over the host's own cap: a host that ignores it is a fault
MAX_STDIN_BYTES = 16 * 2**20
CONNECT_TIMEOUT_S = 30.0
FAULT_KINDS = frozenset(
    {"GliaLimit", "CodecError", "SystemExit", "KeyboardInterrupt", "UnknownCall", "CopyMissing"}
)
PLAIN_DATA = (
    "plain data (numbers, strings, bytes, None, numeric numpy arrays, lists, tuples, dicts, sets, or "
    "dataclasses, named tuples, enums and simple objects of the problem folder's own modules)"
)


class ProgramError(Exception):
    """The program raised an exception that has no builtin counterpart here; the message names it."""


class ProgramFailed(RuntimeError):
    """The program's process failed (exit, crash, hang, flood, protocol breach), or Glia's crossing
    refused something; the evaluation is invalid."""


class Refused(ProgramFailed, TypeError):
    """An operation on a program object that would let the program decide the evaluator's answer."""


class ProgramLink:
    """One session with the program host: a connection per thread, the core's functions, faults."""

    def __init__(
        self, endpoint: str, faults: str | None, deadline: float, module_name: str, folder: str | None = None
    ) -> None:
        self.endpoint = endpoint
        self.folder = os.path.realpath(folder) if folder else None  # the problem folder: its classes rebuild
        self.faults_path = faults
        self.deadline = deadline  # time.time() at which the evaluation's time limit runs out
        self.module_name = module_name
        self.session = uuid.uuid4().hex
        self.local = threading.local()
        self.functions: dict[int, Any] = {}  # functions of the core the program may call back
        self._ids = itertools.count(1)
        self.relayed = 0
        self.failed: str | None = None

    # -- calls --------------------------------------------------------------------------------------

    def call(self, name: str, *args: Any) -> Any:
        """Call the host on this thread's connection; faults are recorded and raised as ProgramFailed."""
        if self.failed is not None:
            raise ProgramFailed(self.failed)
        channel = self._channel()
        try:
            return channel.call(name, *args, timeout_s=self._left())
        except RemoteError as exc:
            raise self.remote_failure(exc) from None
        except ChannelError as exc:
            self.local.channel = None
            raise self.fault(self._describe(exc)) from None
        except BaseException:
            # The evaluator interrupted the call (its own timeout signal, say): this connection may still
            # get the late answer, so it is dropped; the next call opens another in the same session.
            self._drop()
            raise

    def fault(self, message: str, *, prefix: str = "the program failed: ", kind: type = ProgramFailed) -> Any:
        """Record a fault (for the harness, out of band) and return the exception to raise."""
        text = " ".join(f"{prefix}{message}".split())[:2000]
        if self.failed is None:
            self.failed = text
        if self.faults_path:
            with contextlib.suppress(OSError), open(self.faults_path, "a", encoding="utf-8") as handle:
                handle.write(text + "\n")
        return kind(text)

    def refuse(self, message: str) -> Refused:
        """Glia refuses an operation: the evaluation is invalid, whatever the evaluator does with the error."""
        return self.fault(message, prefix="Glia refused: ", kind=Refused)

    def remote_failure(self, exc: RemoteError) -> BaseException:
        """The exception to raise for a failure the host reported: a fault, or the program's own."""
        if exc.kind in FAULT_KINDS:
            return self.fault(f"{exc.kind}: {exc.message}")
        if exc.kind == "ModuleNotFoundError":  # the same program in process would have found it
            return self.fault(
                f"a module it imports is missing in its sandbox ({exc.message}); a module of the problem "
                "folder must sit beside the program or be imported by it by name",
                prefix="the program could not run in its sandbox: ",
            )
        return _local_exception(exc)

    # -- values -------------------------------------------------------------------------------------

    def to_wire(self, value: Any) -> Any:
        try:
            return to_wire(value, self._reference, by_value=_sent_by_value)
        except CodecError as exc:
            raise self.refuse(f"a value cannot be passed to the program ({exc})") from None

    def from_wire(self, value: Any) -> Any:
        try:
            return from_wire(value, self._resolve, find_class=self._folder_class)
        except CodecError as exc:
            raise self.fault(f"it sent a malformed value ({exc})") from None

    def _folder_class(self, module: str, name: str) -> Any:
        """The class `module.name` when `module` is a module of the problem folder the evaluator loaded."""
        if self.folder is None:
            return None
        loaded = sys.modules.get(module)
        path = getattr(loaded, "__file__", None) if loaded is not None else None
        if not isinstance(path, str) or not os.path.realpath(path).startswith(self.folder + os.sep):
            return None
        found: Any = loaded
        for part in name.split("."):
            namespace = getattr(found, "__dict__", None)
            found = namespace.get(part) if isinstance(namespace, Mapping) else None
            if found is None:
                return None
        return found if isinstance(found, type) else None

    def _reference(self, obj: Any) -> dict[str, Any]:
        if isinstance(obj, RemoteObject):
            return ref("h", object.__getattribute__(obj, "_glia_id"), obj)
        if callable(obj):
            ref_id = next(self._ids)
            self.functions[ref_id] = obj
            return ref("c", ref_id, obj)
        raise self.refuse(
            f"a {type(obj).__module__}.{type(obj).__qualname__} cannot be passed to the program: only "
            f"{PLAIN_DATA}, functions, and the program's own objects cross to its sandbox; pass its data instead"
        )

    def _resolve(self, side: str, ref_id: int, name: str, is_callable: bool, iterator: bool = False) -> Any:
        if side == "c":
            if ref_id not in self.functions:
                raise CodecError(f"reference to unknown core function {ref_id}")
            return self.functions[ref_id]
        cls = RemoteCallable if is_callable else RemoteObject
        return cls(self, ref_id, name, iterator=iterator)

    # -- what the host may call while a call of ours is in flight -----------------------------------

    def _callback(self, ref_id: Any, args: Any, kwargs: Any) -> Any:
        function = (
            self.functions.get(ref_id) if isinstance(ref_id, int) and not isinstance(ref_id, bool) else None
        )
        if function is None:
            raise LookupError(f"no core function {ref_id!r}")
        positional, named = self.from_wire(args), self.from_wire(kwargs)
        if (
            not isinstance(positional, list)
            or not isinstance(named, dict)
            or not all(isinstance(k, str) for k in named)
        ):
            raise TypeError("callback(ref, args, kwargs) takes a list and a dict of named arguments")
        return self.to_wire(function(*positional, **named))

    def _write(self, fd: Any, data: Any) -> None:
        if fd not in (1, 2) or isinstance(fd, bool) or not isinstance(data, bytes):
            raise TypeError("write(fd, data) takes 1 or 2 and bytes")
        self.relayed += len(data)
        if self.relayed > MAX_RELAYED_BYTES:
            raise ChannelError(f"the program wrote more than {MAX_RELAYED_BYTES} bytes of output")
        stream = sys.stdout if fd == 1 else sys.stderr
        stream.flush()
        target = getattr(stream, "buffer", None)
        if target is not None:
            target.write(data)
        else:
            stream.write(data.decode("utf-8", "replace"))
        stream.flush()

    # -- connections --------------------------------------------------------------------------------

    def _channel(self) -> Channel:
        channel = getattr(self.local, "channel", None)
        if channel is None:
            channel = self._connect()
            self.local.channel = channel
        return channel

    def _connect(self) -> Channel:
        try:
            return connect(
                self.endpoint,
                timeout_s=max(0.05, min(CONNECT_TIMEOUT_S, self._left())),
                handlers={"callback": self._callback, "write": self._write},
            )
        except ChannelError as exc:
            raise self.fault(f"its sandbox could not be reached ({exc})") from None

    def _drop(self) -> None:
        channel = getattr(self.local, "channel", None)
        self.local.channel = None
        if channel is not None:
            channel.close()

    def _left(self) -> float:
        left = self.deadline - time.time()
        if left <= 0:
            raise self.fault("the evaluation's time limit ran out while the program was running")
        return left

    def _describe(self, exc: ChannelError) -> str:
        text = str(exc)
        if "time limit" in text:
            return "it did not answer before the evaluation's time limit ran out (it hung or ran too long)"
        if "closed the connection" in text or "is gone" in text or "connection failed" in text:
            return f"its process ended or crashed ({text})"
        return text


class SessionLink(ProgramLink):
    """A link to one import of the program: every new connection first joins the session (`open`)."""

    manifest: list[list[Any]] | None = None

    def _connect(self) -> Channel:
        channel = super()._connect()
        try:
            on_main = threading.current_thread() is threading.main_thread()  # the host runs it on its own
            names = channel.call("open", self.session, self.module_name, on_main, timeout_s=self._left())
        except RemoteError as exc:  # the program's import raised (or, for a fault kind, its process)
            channel.close()
            raise self.remote_failure(exc) from None
        except ChannelError as exc:
            channel.close()
            raise self.fault(self._describe(exc)) from None
        if self.manifest is None:
            if not isinstance(names, list):
                raise self.fault("it answered open() with something that is not a list of names")
            self.manifest = names
        return channel

    def names(self) -> list[list[Any]]:
        """The program's top-level callables, as (name, ref) pairs: the first connection imports it."""
        if self.failed is not None:
            raise ProgramFailed(self.failed)
        self._channel()
        return list(self.manifest or [])


class RemoteObject:
    """An object that lives in the program's sandbox and could not cross by value.

    Attribute reads and writes, method calls, iteration and indexing go to the program: using the
    object is the program's job. Whatever would let the program decide an answer of the evaluator's
    (comparisons, hashing, truth, length, `in`, numeric conversion, arithmetic, numeric formatting)
    is refused: a `Refused` fault, so the evaluation is invalid with the reason, and the evaluator's
    operand never reaches the program. Two references to one object compare as one, here.
    """

    __slots__ = ("_glia_link", "_glia_id", "_glia_type", "_glia_methods", "_glia_iterator", "__name__",
                 "__qualname__")  # fmt: skip

    def __init__(
        self, link: ProgramLink, ref_id: int, type_name: str, name: str | None = None, iterator: bool = False
    ) -> None:
        object.__setattr__(self, "_glia_link", link)
        object.__setattr__(self, "_glia_id", ref_id)
        object.__setattr__(self, "_glia_type", type_name)
        object.__setattr__(self, "_glia_methods", {})
        object.__setattr__(self, "_glia_iterator", iterator)
        object.__setattr__(self, "__name__", name or type_name)
        object.__setattr__(self, "__qualname__", name or type_name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # never fetched from the program: see the module docstring
        methods: dict[str, RemoteMethod] = object.__getattribute__(self, "_glia_methods")
        if name in methods:
            return methods[name]
        link: ProgramLink = object.__getattribute__(self, "_glia_link")
        ref_id = object.__getattribute__(self, "_glia_id")
        raw = link.call("getattr", ref_id, name)
        if isinstance(raw, dict) and raw.get("~") == "method" and len(raw) == 1:
            method = methods[name] = RemoteMethod(link, ref_id, name)
            return method
        return link.from_wire(raw)

    def __setattr__(self, name: str, value: Any) -> None:
        link: ProgramLink = object.__getattribute__(self, "_glia_link")
        object.__getattribute__(self, "_glia_methods").pop(name, None)
        link.call("setattr", object.__getattribute__(self, "_glia_id"), name, link.to_wire(value))

    def _glia_op(self, dunder: str, *args: Any) -> Any:
        link: ProgramLink = object.__getattribute__(self, "_glia_link")
        wire = link.to_wire(list(args))
        return link.from_wire(link.call("op", object.__getattribute__(self, "_glia_id"), dunder, wire))

    def _glia_refuse(self, what: str) -> Refused:
        link: ProgramLink = object.__getattribute__(self, "_glia_link")
        kind = str(object.__getattribute__(self, "_glia_type"))[:60]
        return link.refuse(
            f"the evaluator applied {what} to a {kind!r} object of the program, which stays in the program's "
            "sandbox (it could not cross by value), so the program would decide the answer; the program must "
            f"return {PLAIN_DATA} for the evaluator to compare"
        )

    def _glia_same(self, other: Any) -> bool | None:
        """Whether `other` is a reference to the same object (decided here), None when it is no reference."""
        if not isinstance(other, RemoteObject):
            return None
        mine = (object.__getattribute__(self, "_glia_link"), object.__getattribute__(self, "_glia_id"))
        theirs = (object.__getattribute__(other, "_glia_link"), object.__getattribute__(other, "_glia_id"))
        return mine[0] is theirs[0] and mine[1] == theirs[1]

    def __repr__(self) -> str:
        try:
            text = self._glia_op("__repr__")
        except Exception:  # noqa: BLE001 - a repr must not fail
            text = None
        kind = object.__getattribute__(self, "_glia_type")
        return text if isinstance(text, str) else f"<remote {kind}>"

    def __str__(self) -> str:
        text = self._glia_op("__str__")
        if not isinstance(text, str):
            raise TypeError("__str__ returned non-string")
        return text

    def __format__(self, spec: str) -> str:
        if spec:
            raise self._glia_refuse(f"format spec {spec[:20]!r}")
        return str(self)

    def __len__(self) -> int:
        if object.__getattribute__(self, "_glia_iterator"):
            raise TypeError(f"object of type {object.__getattribute__(self, '_glia_type')!r} has no len()")
        raise self._glia_refuse("len()")

    def __iter__(self) -> Any:
        return self._glia_op("__iter__")

    def __next__(self) -> Any:
        return self._glia_op("__next__")

    def __getitem__(self, key: Any) -> Any:
        return self._glia_op("__getitem__", key)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._glia_op("__setitem__", key, value)

    def __delitem__(self, key: Any) -> None:
        self._glia_op("__delitem__", key)

    def __contains__(self, item: Any) -> bool:
        raise self._glia_refuse("`in`")

    def __bool__(self) -> bool:
        raise self._glia_refuse("a truth test (bool(), if, and/or)")

    def __float__(self) -> float:
        raise self._glia_refuse("float()")

    def __int__(self) -> int:
        raise self._glia_refuse("int()")

    def __index__(self) -> int:
        raise self._glia_refuse("use as an index (operator.index)")

    def __complex__(self) -> complex:
        raise self._glia_refuse("complex()")

    def __round__(self, *args: Any) -> Any:
        raise self._glia_refuse("round()")

    def __hash__(self) -> int:
        raise self._glia_refuse("hash() (a set member or dict key)")

    def __eq__(self, other: Any) -> Any:
        same = self._glia_same(other)
        if same:
            return True
        raise self._glia_refuse("==")

    def __ne__(self, other: Any) -> Any:
        same = self._glia_same(other)
        if same:
            return False
        raise self._glia_refuse("!=")

    def __enter__(self) -> Any:
        return self._glia_op("__enter__")

    def __exit__(self, *exc: Any) -> Any:
        return self._glia_op("__exit__", None, None, None)


def _refused_operator(symbol: str) -> Any:
    def operation(self: RemoteObject, *args: Any) -> Any:
        raise self._glia_refuse(symbol)

    return operation


for _name, _symbol in {
    "__lt__": "<", "__le__": "<=", "__gt__": ">", "__ge__": ">=",
    "__add__": "+", "__radd__": "+", "__sub__": "-", "__rsub__": "-", "__mul__": "*", "__rmul__": "*",
    "__truediv__": "/", "__rtruediv__": "/", "__floordiv__": "//", "__rfloordiv__": "//",
    "__mod__": "%", "__rmod__": "%", "__pow__": "**", "__rpow__": "**", "__matmul__": "@", "__rmatmul__": "@",
    "__and__": "&", "__rand__": "&", "__or__": "|", "__ror__": "|", "__xor__": "^", "__rxor__": "^",
    "__lshift__": "<<", "__rlshift__": "<<", "__rshift__": ">>", "__rrshift__": ">>",
    "__neg__": "unary -", "__pos__": "unary +", "__abs__": "abs()", "__invert__": "~",
    "__divmod__": "divmod()", "__rdivmod__": "divmod()", "__trunc__": "math.trunc()",
    "__floor__": "math.floor()", "__ceil__": "math.ceil()",
}.items():  # fmt: skip
    setattr(RemoteObject, _name, _refused_operator(_symbol))


class RemoteCallable(RemoteObject):
    """A function, class or callable object of the program."""

    __slots__ = ()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        link: ProgramLink = object.__getattribute__(self, "_glia_link")
        wire_args, wire_kwargs = link.to_wire(list(args)), link.to_wire(dict(kwargs))
        return link.from_wire(
            link.call("call", object.__getattribute__(self, "_glia_id"), wire_args, wire_kwargs)
        )


class RemoteMethod:
    """A method of an object in the program's sandbox: each call is one `call_method` round trip."""

    __slots__ = ("_link", "_ref_id", "__name__")

    def __init__(self, link: ProgramLink, ref_id: int, name: str) -> None:
        self._link = link
        self._ref_id = ref_id
        self.__name__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        link = self._link
        wire_args, wire_kwargs = link.to_wire(list(args)), link.to_wire(dict(kwargs))
        return link.from_wire(link.call("call_method", self._ref_id, self.__name__, wire_args, wire_kwargs))

    def __repr__(self) -> str:
        return f"<remote method {self.__name__}>"


def _local_exception(exc: RemoteError) -> BaseException:
    """The program's exception as the builtin of the same name (ValueError, TimeoutError, ...)."""
    cls = getattr(builtins, exc.kind, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(exc.message)
        except Exception:  # noqa: BLE001 - a builtin that wants other arguments
            pass
    return ProgramError(f"{exc.kind}: {exc.message}")


def _sent_by_value(cls: type) -> bool:
    """The evaluator's plain instances cross by value, as copies; Glia's own stand-ins never do."""
    return not issubclass(cls, RemoteObject | RemoteMethod | ProgramLink)


# -- the stand-in module ---------------------------------------------------------------------------


def stand_in(
    namespace: dict[str, Any], endpoint: str, faults: str | None, deadline: float, folder: str | None = None
) -> None:
    """Make the module whose globals are `namespace` stand in for the program (see the module doc);
    `folder` is the problem folder, whose classes rebuild the program's plain instances."""
    for name in [n for n in namespace if n.startswith("_glia_")]:
        del namespace[name]  # the stub's own helpers
    module_name = str(namespace.get("__name__") or "program")
    if module_name == "__main__":
        raise SystemExit(run_as_main(endpoint, faults, deadline))
    link = SessionLink(endpoint, faults, deadline, module_name, folder)
    for item in link.names():
        name, wire = item if isinstance(item, list) and len(item) == 2 else (None, None)
        if isinstance(name, str) and name.isidentifier() and not name.startswith("__"):
            value = link.from_wire(wire)
            if isinstance(value, RemoteObject):
                object.__setattr__(value, "__name__", name)
                object.__setattr__(value, "__qualname__", name)
            namespace[name] = value

    def __getattr__(name: str) -> Any:  # noqa: N807 - the module-level hook of PEP 562
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        return link.from_wire(link.call("lookup", name))

    namespace["__getattr__"] = __getattr__
    namespace["__glia_link__"] = link


def run_as_main(endpoint: str, faults: str | None, deadline: float) -> int:
    """Run the program as `__main__` in its sandbox; return the exit status to leave with."""
    link = ProgramLink(endpoint, faults, deadline, "__main__")
    stdin = _stdin_bytes()
    try:
        answer = link.call("run_main", list(sys.argv[1:]), stdin)
    except ProgramFailed as exc:
        print(f"glia: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - a host that refuses to run the program: its failure
        print(f"glia: {link.fault(f'its sandbox refused to run it ({exc})')}", file=sys.stderr)
        return 1
    if not (isinstance(answer, list) and len(answer) == 2):
        print(f"glia: {link.fault('it sent a malformed answer to run_main()')}", file=sys.stderr)
        return 1
    code, note = answer
    if note:
        print(f"glia: {link.fault(str(note)[:500])}", file=sys.stderr)
        return 1
    if isinstance(code, bool) or not isinstance(code, int):
        print(f"glia: {link.fault('it sent a malformed exit status')}", file=sys.stderr)
        return 1
    return 128 - code if code < 0 else min(code, 255)  # killed by a signal: as a shell reports it


def _stdin_bytes() -> bytes:
    """This process's standard input when it is a pipe or a file (never waits on a terminal)."""
    try:
        mode = os.fstat(0).st_mode
    except OSError:
        return b""
    if not (stat.S_ISFIFO(mode) or stat.S_ISREG(mode) or stat.S_ISSOCK(mode)):
        return b""
    data = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)
    if len(data) > MAX_STDIN_BYTES:
        raise SystemExit(f"glia: more than {MAX_STDIN_BYTES} bytes on standard input")
    return data
