"""The core's side of an isolated program: a stand-in module whose names reach the program's sandbox.

Glia's harness hands the problem's evaluator the path of a generated stand-in file instead of the
program. The file does one thing, `stand_in(globals(), ...)`:

* imported (`exec_module`, `import`): the module gets the program's top-level functions and classes as
  remote callables, and any other name is looked up in the program's sandbox on use. Calls cross as
  plain data (`program_values`); objects that are not plain data come back as `RemoteObject`s whose
  attributes, methods, iteration, indexing and comparisons are forwarded.
* run as a script (`python program.py ARGS`): the program runs as `__main__` in its sandbox, with
  these arguments and this process's standard input; its output and exit status are relayed here.

Every thread of every process that uses the stand-in opens its own connection to the program host
(`program_host`), all in the stand-in's session, so threads and subprocesses work as they would with
the real program. What the host sends is hostile: values are decoded strictly, every call has the
deadline of the whole evaluation, and dunder attributes are never fetched from it (a forged
`__array_interface__` would make numpy read memory at an address the program chose).

A *fault* is a failure of the program's process rather than an exception raised by the program: it
exited, crashed, hung past the deadline, flooded the channel, or broke the protocol. Faults are written
to the harness's fault file, so the evaluation is invalid even if the evaluator catches the exception
(`ProgramFailed`) that the call raises. An exception the program raises is re-raised here as the
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
from typing import Any

from .channel import Channel, ChannelError, RemoteError, connect
from .codec import CodecError
from .program_values import from_wire, ref, to_wire

MAX_RELAYED_BYTES = 17 * 2**20  # a little over the host's own cap: a host that ignores it is a fault
MAX_STDIN_BYTES = 16 * 2**20
CONNECT_TIMEOUT_S = 30.0
FAULT_KINDS = frozenset({"GliaLimit", "CodecError", "SystemExit", "KeyboardInterrupt", "UnknownCall"})


class ProgramError(Exception):
    """The program raised an exception that has no builtin counterpart here; the message names it."""


class ProgramFailed(RuntimeError):
    """The program's process failed (exit, crash, hang, flood, protocol breach); the evaluation is invalid."""


class ProgramLink:
    """One session with the program host: a connection per thread, the core's functions, faults."""

    def __init__(self, endpoint: str, faults: str | None, deadline: float, module_name: str) -> None:
        self.endpoint = endpoint
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
            if exc.kind in FAULT_KINDS:
                raise self.fault(f"{exc.kind}: {exc.message}") from None
            raise _local_exception(exc) from None
        except ChannelError as exc:
            self.local.channel = None
            raise self.fault(self._describe(exc)) from None
        except BaseException:
            # The evaluator interrupted the call (its own timeout signal, say): this connection may still
            # get the late answer, so it is dropped; the next call opens another in the same session.
            self._drop()
            raise

    def fault(self, message: str) -> ProgramFailed:
        """Record a failure of the program's process (for the harness) and return the exception."""
        text = f"the program failed: {message}"
        if self.failed is None:
            self.failed = text
        if self.faults_path:
            with contextlib.suppress(OSError), open(self.faults_path, "a", encoding="utf-8") as handle:
                handle.write(" ".join(text.split())[:2000] + "\n")
        return ProgramFailed(text)

    # -- values -------------------------------------------------------------------------------------

    def to_wire(self, value: Any) -> Any:
        return to_wire(value, self._reference)

    def from_wire(self, value: Any) -> Any:
        try:
            return from_wire(value, self._resolve)
        except CodecError as exc:
            raise self.fault(f"it sent a malformed value ({exc})") from None

    def _reference(self, obj: Any) -> dict[str, Any]:
        if isinstance(obj, RemoteObject):
            return ref("h", object.__getattribute__(obj, "_glia_id"), obj)
        if callable(obj):
            ref_id = next(self._ids)
            self.functions[ref_id] = obj
            return ref("c", ref_id, obj)
        raise TypeError(
            f"a {type(obj).__name__} cannot be passed to the program: only plain data (numbers, strings, "
            "bytes, numeric arrays, lists, tuples, dicts, sets), the program's own objects and functions "
            "cross to its sandbox"
        )

    def _resolve(self, side: str, ref_id: int, name: str, is_callable: bool) -> Any:
        if side == "c":
            if ref_id not in self.functions:
                raise CodecError(f"reference to unknown core function {ref_id}")
            return self.functions[ref_id]
        cls = RemoteCallable if is_callable else RemoteObject
        return cls(self, ref_id, name)

    # -- what the host may call while a call of ours is in flight -----------------------------------

    def _callback(self, ref_id: Any, args: Any, kwargs: Any) -> Any:
        function = (
            self.functions.get(ref_id) if isinstance(ref_id, int) and not isinstance(ref_id, bool) else None
        )
        if function is None:
            raise LookupError(f"no core function {ref_id!r}")
        positional, named = from_wire(args, self._resolve), from_wire(kwargs, self._resolve)
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
            names = channel.call("open", self.session, self.module_name, timeout_s=self._left())
        except RemoteError as exc:  # the program's import raised (or, for a fault kind, its process)
            channel.close()
            if exc.kind in FAULT_KINDS:
                raise self.fault(f"{exc.kind}: {exc.message}") from None
            raise _local_exception(exc) from None
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
    """An object that lives in the program's sandbox; attribute reads, writes and operators go there."""

    __slots__ = ("_glia_link", "_glia_id", "_glia_type", "_glia_methods", "__name__", "__qualname__")

    def __init__(self, link: ProgramLink, ref_id: int, type_name: str, name: str | None = None) -> None:
        object.__setattr__(self, "_glia_link", link)
        object.__setattr__(self, "_glia_id", ref_id)
        object.__setattr__(self, "_glia_type", type_name)
        object.__setattr__(self, "_glia_methods", {})
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

    def __repr__(self) -> str:
        try:
            text = self._glia_op("__repr__")
        except Exception:  # noqa: BLE001 - a repr must not fail
            text = None
        kind = object.__getattribute__(self, "_glia_type")
        return text if isinstance(text, str) else f"<remote {kind}>"

    def __str__(self) -> str:
        return self._glia_op("__str__")

    def __len__(self) -> int:
        return self._glia_op("__len__")

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
        return bool(self._glia_op("__contains__", item))

    def __bool__(self) -> bool:
        try:
            return bool(self._glia_op("__bool__"))
        except TypeError:
            try:
                return self._glia_op("__len__") != 0
            except TypeError:
                return True

    def __float__(self) -> float:
        return self._glia_op("__float__")

    def __int__(self) -> int:
        return self._glia_op("__int__")

    def __index__(self) -> int:
        return self._glia_op("__index__")

    def __hash__(self) -> int:
        return self._glia_op("__hash__")

    def __eq__(self, other: Any) -> Any:
        return self._glia_op("__eq__", other)

    def __ne__(self, other: Any) -> Any:
        return self._glia_op("__ne__", other)

    def __lt__(self, other: Any) -> Any:
        return self._glia_op("__lt__", other)

    def __le__(self, other: Any) -> Any:
        return self._glia_op("__le__", other)

    def __gt__(self, other: Any) -> Any:
        return self._glia_op("__gt__", other)

    def __ge__(self, other: Any) -> Any:
        return self._glia_op("__ge__", other)

    def __add__(self, other: Any) -> Any:
        return self._glia_op("__add__", other)

    def __radd__(self, other: Any) -> Any:
        return self._glia_op("__radd__", other)

    def __sub__(self, other: Any) -> Any:
        return self._glia_op("__sub__", other)

    def __rsub__(self, other: Any) -> Any:
        return self._glia_op("__rsub__", other)

    def __mul__(self, other: Any) -> Any:
        return self._glia_op("__mul__", other)

    def __rmul__(self, other: Any) -> Any:
        return self._glia_op("__rmul__", other)

    def __truediv__(self, other: Any) -> Any:
        return self._glia_op("__truediv__", other)

    def __neg__(self) -> Any:
        return self._glia_op("__neg__")

    def __abs__(self) -> Any:
        return self._glia_op("__abs__")

    def __enter__(self) -> Any:
        return self._glia_op("__enter__")

    def __exit__(self, *exc: Any) -> Any:
        return self._glia_op("__exit__", None, None, None)


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


# -- the stand-in module ---------------------------------------------------------------------------


def stand_in(namespace: dict[str, Any], endpoint: str, faults: str | None, deadline: float) -> None:
    """Make the module whose globals are `namespace` stand in for the program (see the module doc)."""
    for name in [n for n in namespace if n.startswith("_glia_")]:
        del namespace[name]  # the stub's own helpers
    module_name = str(namespace.get("__name__") or "program")
    if module_name == "__main__":
        raise SystemExit(run_as_main(endpoint, faults, deadline))
    link = SessionLink(endpoint, faults, deadline, module_name)
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
