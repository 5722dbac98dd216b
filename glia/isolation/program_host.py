"""The program's side of an isolated evaluation: ``python -m glia_isolation.program_host``.

    python -m glia_isolation.program_host --program initial_program.py --listen PATH [--accept-timeout S]

Glia's trusted evaluation of an OpenEvolve-style problem starts this in the design sandbox, which
holds the program file and this package, and nothing of the problem: no evaluator, no data, no
expected answers. The problem's evaluator runs in the core sandbox and imports a stand-in module
(`program_proxy`) that forwards every use of the program to this process over the unix socket PATH.

Several connections may arrive (an evaluator that uses threads, or that runs the program in
subprocesses: each process, and each thread, connects on its own). A connection opened from the main
thread of a core process is served on this process's main thread, as the call would run in process:
a program may set signal handlers (a SIGALRM time limit) only there. Each connection first names its
session with `open`; every stand-in module the core imports is one session, and a session is one
fresh import of the program here, as a fresh `exec_module` would be in process. Calls on a connection:

    open(session, module_name[, main])  -> names of the program's top-level callables, as refs
    lookup(name)                        -> a top-level value (plain data, or a ref)
    call(ref, args, kwargs)             -> what the call returned
    getattr(ref, name) / setattr(ref, name, value)
                                        (a bound method of the object comes back as {"~": "method"})
    call_method(ref, name, args, kwargs) -> what the method returned (one round trip per method call)
    op(ref, dunder, args)               -> len(), iteration, indexing, comparisons, str() ...
    run_main(argv, stdin)               -> exit code; output arrives as `write(fd, bytes)` calls back
    shutdown()                          -> the core is done: exit

Results that are plain data (numbers, strings, bytes, numeric arrays, lists, tuples, dicts, sets, and
the contents of their subclasses) travel by value, and so do instances of plain classes of the problem
folder's own modules (shipped beside the program) and the copies the core sent; any other object
stays here and travels as a ref. The core's plain instances are rebuilt here as the class of the same
name when its module imports here, else as plain copies. The core never sends its operands for
comparisons (it refuses them), only explicit call arguments, which arrive as copies. A function the
core passed in can be called back (`callback`), nothing more. Nothing here is trusted by the core: it
checks what it gets.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import itertools
import operator
import os
import queue
import selectors
import socket
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .channel import Channel, ChannelError, listen
from .codec import CodecError, encode
from .program_values import COPY_MARK, from_wire, ref, to_wire

MAX_RESULT_BYTES = 24 * 2**20  # under the channel's frame limit, so an oversized result gets a clear error
MAX_MAIN_OUTPUT_BYTES = 16 * 2**20  # relayed output of one run of the program as __main__
MAX_CONNECTIONS = 64
MAX_SESSIONS = 10_000
OUTPUT_CHUNK = 64 * 1024
# The operations the core may apply to a program's object, done as Python does them (so the usual
# fallbacks hold: iteration through __getitem__). Comparisons, hashing, truth, length, `in`, numeric
# conversion and arithmetic are not here: the core decides those itself or refuses them.
OPERATIONS: dict[str, Callable[..., Any]] = {
    "__iter__": iter, "__next__": next, "__str__": str, "__repr__": repr,
    "__getitem__": operator.getitem, "__setitem__": operator.setitem, "__delitem__": operator.delitem,
    "__enter__": lambda obj: type(obj).__enter__(obj),
    "__exit__": lambda obj, *exc: type(obj).__exit__(obj, *exc),
}  # fmt: skip


class GliaLimit(Exception):
    """The program broke a limit of the channel (say, a result too large to send); the core treats it
    as a failure of the program, not as an exception the evaluator may handle."""


class Session:
    """One fresh import of the program and the objects it handed out."""

    def __init__(self, program: Path, module_name: str) -> None:
        self.program = program
        self.objects: dict[int, Any] = {}
        self.ids: dict[int, int] = {}  # id(obj) -> ref id, so one object keeps one ref
        self._next = itertools.count(1)
        self._lock = threading.Lock()
        self.module = self._import(module_name)

    def _import(self, module_name: str) -> types.ModuleType:
        spec = importlib.util.spec_from_file_location(module_name, self.program)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {self.program.name} as a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module  # as an import would: dataclasses and pickle look here
        spec.loader.exec_module(module)
        return module

    def reference(self, obj: Any) -> dict[str, Any]:
        if isinstance(obj, CoreFunction):
            return ref("c", obj.ref_id, obj)
        with self._lock:
            ref_id = self.ids.get(id(obj))
            if ref_id is None or self.objects.get(ref_id) is not obj:
                ref_id = next(self._next)
                self.objects[ref_id] = obj
                self.ids[id(obj)] = ref_id
        return ref("h", ref_id, obj)

    def get(self, ref_id: Any) -> Any:
        if isinstance(ref_id, bool) or not isinstance(ref_id, int) or ref_id not in self.objects:
            raise LookupError(f"no object {ref_id!r} in this session")
        return self.objects[ref_id]


class CoreFunction:
    """A function the core passed to the program: calling it asks the core to run it."""

    def __init__(self, connection: Connection, ref_id: int, name: str) -> None:
        self.connection = connection
        self.ref_id = ref_id
        self.__name__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.connection.call_core(self.ref_id, args, kwargs)

    def __repr__(self) -> str:
        return f"<core function {self.__name__}>"


class Connection:
    """One connection from the core: its channel and the session it opened."""

    def __init__(self, host: ProgramHost, sock: socket.socket) -> None:
        self.host = host
        self.session: Session | None = None
        self.on_main_thread = False  # opened from a core's main thread: served on ours
        self.channel = Channel(
            sock,
            {
                "open": self.open,
                "lookup": self.lookup,
                "call": self.call,
                "getattr": self.get_attribute,
                "call_method": self.call_method,
                "setattr": self.set_attribute,
                "op": self.operate,
                "run_main": self.run_main,
                "shutdown": host.shutdown,
            },
        )

    # -- handlers -----------------------------------------------------------------------------------

    def open(self, session_id: Any, module_name: Any, main: Any = False) -> list[list[Any]]:
        if self.session is not None:
            raise RuntimeError("this connection already has a session")
        self.on_main_thread = main is True
        if (
            not isinstance(session_id, str)
            or not isinstance(module_name, str)
            or not module_name.isidentifier()
        ):
            raise TypeError("open(session, module_name) takes two strings, the second an identifier")
        self.session = self.host.session(session_id, module_name)
        names = []
        for name, value in list(vars(self.session.module).items()):
            if not name.startswith("__") and callable(value) and not isinstance(value, types.ModuleType):
                names.append([name, self.out(value)])
        return names

    def lookup(self, name: Any) -> Any:
        module = self._session().module
        if not isinstance(name, str):
            raise TypeError("lookup() takes a name")
        try:
            value = getattr(module, name)
        except AttributeError:
            raise AttributeError(f"the program has no attribute {name!r}") from None
        return self.out(value)

    def call(self, target: Any, args: Any, kwargs: Any) -> Any:
        function = self._session().get(target)
        positional, named = self._arguments(args, kwargs)
        return self.out(function(*positional, **named))

    def get_attribute(self, target: Any, name: Any) -> Any:
        if not isinstance(name, str):
            raise TypeError("getattr() takes a name")
        obj = self._session().get(target)
        value = getattr(obj, name)
        if isinstance(value, types.MethodType) and value.__self__ is obj:
            return {"~": "method"}  # the core calls it with call_method: one round trip a call
        return self.out(value)

    def call_method(self, target: Any, name: Any, args: Any, kwargs: Any) -> Any:
        if not isinstance(name, str):
            raise TypeError("call_method() takes a name")
        method = getattr(self._session().get(target), name)
        positional, named = self._arguments(args, kwargs)
        return self.out(method(*positional, **named))

    def set_attribute(self, target: Any, name: Any, value: Any) -> None:
        if not isinstance(name, str):
            raise TypeError("setattr() takes a name")
        setattr(self._session().get(target), name, self.into(value))

    def operate(self, target: Any, dunder: Any, args: Any) -> Any:
        operation = OPERATIONS.get(dunder) if isinstance(dunder, str) else None
        if operation is None:
            raise TypeError(f"operation {dunder!r} is not forwarded")
        obj = self._session().get(target)
        positional = self.into(args)
        if not isinstance(positional, list):
            raise TypeError("op() arguments must be a list")
        return self.out(operation(obj, *positional))

    def run_main(self, argv: Any, stdin: Any) -> list[Any]:
        """Run the program file as `__main__` in a process of its own; relay its output."""
        if not (isinstance(argv, list) and all(isinstance(a, str) for a in argv)) or not isinstance(
            stdin, bytes
        ):
            raise TypeError("run_main(argv, stdin) takes a list of strings and bytes")
        return MainRun(self, argv, stdin).run()

    # -- helpers ------------------------------------------------------------------------------------

    def _session(self) -> Session:
        if self.session is None:
            raise RuntimeError("open() must come first")
        return self.session

    def _arguments(self, args: Any, kwargs: Any) -> tuple[list[Any], dict[str, Any]]:
        positional, named = self.into(args), self.into(kwargs)
        if not isinstance(positional, list) or not isinstance(named, dict):
            raise TypeError("arguments must be a list and a dict")
        if not all(isinstance(k, str) for k in named):
            raise TypeError("keyword argument names must be strings")
        return positional, named

    def into(self, value: Any) -> Any:
        """A value from the core: refs to our objects resolve, the core's functions become callable."""

        def resolve(side: str, ref_id: int, name: str, is_callable: bool, iterator: bool = False) -> Any:
            if side == "h":
                return self._session().get(ref_id)
            if not is_callable:
                raise CodecError("the core sent a reference to an object that is not a function")
            return CoreFunction(self, ref_id, name)

        return from_wire(value, resolve, find_class=find_class)

    def out(self, value: Any) -> Any:
        wire = to_wire(value, self._session().reference, by_value=self.host.by_value)
        size = len(encode(wire))
        if size > MAX_RESULT_BYTES:
            raise GliaLimit(f"the program returned {size} bytes, over the limit of {MAX_RESULT_BYTES}")
        return wire

    def call_core(self, ref_id: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        reference = self._session().reference
        wire_args = to_wire(list(args), reference, by_value=self.host.by_value)
        wire_kwargs = to_wire(dict(kwargs), reference, by_value=self.host.by_value)
        return self.into(self.channel.call("callback", ref_id, wire_args, wire_kwargs))

    def serve(self) -> None:
        """Serve on this thread, until the core opens the session from its main thread: then hand over."""
        while self.serve_one():
            if self.on_main_thread:
                self.host.main_thread_connections.put(self)
                return
        self.finish()

    def serve_one(self) -> bool:
        """Answer one call; False when the connection is over (closed, broken, or the program exited)."""
        try:
            return self.channel.serve_one()
        except (ChannelError, BaseException) as exc:  # noqa: BLE001 - a program exit ends its connection
            if isinstance(exc, SystemExit | KeyboardInterrupt):
                print(f"program_host: the program raised {type(exc).__name__}; closing", file=sys.stderr)
            return False

    def finish(self) -> None:
        self.channel.close()
        self.host.connection_closed()


class MainRun:
    """The program run as a script (`python program.py ARGS`), its output streamed to the core."""

    def __init__(self, connection: Connection, argv: list[str], stdin: bytes) -> None:
        self.connection = connection
        self.argv = argv
        self.stdin = stdin
        self.chunks: queue.Queue[tuple[int, bytes] | None] = queue.Queue(maxsize=64)

    def run(self) -> list[Any]:
        program = self.connection.host.program
        process = subprocess.Popen(
            [sys.executable, str(program), *self.argv],
            cwd=str(program.parent),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        feeders = [
            threading.Thread(target=self._feed, args=(process,), daemon=True),
            threading.Thread(target=self._read, args=(process.stdout, 1), daemon=True),
            threading.Thread(target=self._read, args=(process.stderr, 2), daemon=True),
        ]
        for thread in feeders:
            thread.start()
        relayed, open_streams, note = 0, 2, None
        try:
            while open_streams:
                item = self.chunks.get()
                if item is None:
                    open_streams -= 1
                    continue
                fd, data = item
                relayed += len(data)
                if relayed > MAX_MAIN_OUTPUT_BYTES:
                    note = (
                        f"the program wrote more than {MAX_MAIN_OUTPUT_BYTES} bytes of output and was stopped"
                    )
                    break
                self.connection.channel.call("write", fd, data)
        finally:
            if note is not None or process.poll() is None and open_streams:
                process.kill()
            code = process.wait()
        return [code, note]

    def _feed(self, process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(OSError):
            assert process.stdin is not None
            process.stdin.write(self.stdin)
        with contextlib.suppress(OSError):
            process.stdin.close()  # type: ignore[union-attr]

    def _read(self, stream: Any, fd: int) -> None:
        try:
            while True:
                data = stream.read1(OUTPUT_CHUNK)
                if not data:
                    break
                self.chunks.put((fd, data))
        except (OSError, ValueError):
            pass
        finally:
            self.chunks.put(None)


def find_class(module: str, name: str) -> Any:
    """The class `module.name` here, importing its module if need be (a module of the problem folder
    shipped beside the program, or an installed package); None when there is none."""
    loaded = sys.modules.get(module)
    if loaded is None:
        try:
            loaded = importlib.import_module(module)
        except Exception:  # noqa: BLE001 - not importable here: the value becomes a plain copy
            return None
    found: Any = loaded
    for part in name.split("."):
        found = getattr(found, part, None)
        if found is None:
            return None
    return found if isinstance(found, type) else None


class ProgramHost:
    """Accepts the core's connections and keeps the sessions."""

    def __init__(self, program: Path, accept_timeout_s: float, root: Path | None = None) -> None:
        self.program = program
        self.root = (
            root or program.parent
        ).resolve()  # the problem folder's copy: its modules cross by value
        self.accept_timeout_s = accept_timeout_s
        self.sessions: dict[str, Session] = {}
        self.stop = threading.Event()
        self.open_connections = 0
        self.last_activity = time.monotonic()
        self._lock = threading.Lock()
        self.main_thread_connections: queue.Queue[Connection] = queue.Queue()

    def by_value(self, cls: type) -> bool:
        """Whether the program's plain instances of `cls` cross by value: the core's copies, and classes
        of the problem folder's own modules (never the program's own classes: their code stays here)."""
        if vars(cls).get(COPY_MARK):
            return True
        module = sys.modules.get(cls.__module__)
        path = getattr(module, "__file__", None) if module is not None else None
        if not isinstance(path, str):
            return False
        resolved = Path(path).resolve()
        return resolved != self.program and resolved.is_relative_to(self.root)

    def session(self, session_id: str, module_name: str) -> Session:
        with self._lock:
            session = self.sessions.get(session_id)
            if session is not None:
                return session
            if len(self.sessions) >= MAX_SESSIONS:
                raise GliaLimit(f"more than {MAX_SESSIONS} imports of the program")
        session = Session(self.program, module_name)  # the program's import runs outside the lock
        with self._lock:
            return self.sessions.setdefault(session_id, session)

    def shutdown(self) -> bool:
        self.stop.set()
        return True

    def connection_closed(self) -> None:
        with self._lock:
            self.open_connections -= 1
            self.last_activity = time.monotonic()

    def serve(self, path: str) -> int:
        server = listen(path, backlog=MAX_CONNECTIONS)
        server.settimeout(0.2)
        started = time.monotonic()
        connected = False
        try:
            while not self.stop.is_set():
                try:
                    sock, _ = server.accept()
                except TimeoutError:
                    with self._lock:
                        idle = self.open_connections == 0 and (
                            time.monotonic() - (self.last_activity if connected else started)
                            > self.accept_timeout_s
                        )
                    if idle:
                        if not connected:
                            print(
                                f"program_host: no core connected within {self.accept_timeout_s:g} s",
                                file=sys.stderr,
                            )
                            return 3
                        return 0
                    continue
                connected = True
                with self._lock:
                    if self.open_connections >= MAX_CONNECTIONS:
                        sock.close()
                        continue
                    self.open_connections += 1
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
                connection = Connection(self, sock)
                threading.Thread(target=connection.serve, name="glia-program-conn", daemon=True).start()
        finally:
            server.close()
            with contextlib.suppress(OSError):
                os.unlink(path)
        return 0

    def serve_main_thread(self) -> None:
        """On the main thread, forever: answer the calls of the connections handed over by `serve`.

        A core's main thread may hold several connections (one per import of the program) and use
        any of them next, so they are served in the order their calls arrive."""
        selector = selectors.DefaultSelector()
        connections: list[Connection] = []
        while True:
            with contextlib.suppress(queue.Empty):
                while True:
                    handed = self.main_thread_connections.get(timeout=0 if connections else 0.2)
                    connections.append(handed)
                    selector.register(handed.channel.sock, selectors.EVENT_READ, handed)
            if not connections:
                continue
            ready = [c for c in connections if c.channel.buffered] or [
                key.data for key, _ in selector.select(timeout=0.2)
            ]
            for connection in ready:
                if not connection.serve_one():
                    selector.unregister(connection.channel.sock)
                    connections.remove(connection)
                    connection.finish()


def _serve_and_exit(host: ProgramHost, path: str) -> None:
    code = host.serve(path)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # threads still running program code (a hung call) must not keep the process alive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m glia_isolation.program_host", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--program", required=True, help="the program file to host")
    parser.add_argument("--listen", required=True, help="unix socket path to wait on for the core")
    parser.add_argument("--accept-timeout", type=float, default=120.0, help="seconds to wait for the core")
    args = parser.parse_args(argv)
    program = Path(args.program).resolve()
    if not program.is_file():
        print(f"program_host: no program file at {program}", file=sys.stderr)
        return 2
    root = Path.cwd().resolve()
    for folder in dict.fromkeys(
        [str(program.parent), str(root)]
    ):  # as in process: the folder's modules import
        sys.path.insert(0, folder)
    host = ProgramHost(program, args.accept_timeout, root)
    threading.Thread(
        target=_serve_and_exit, args=(host, args.listen), name="glia-accept", daemon=True
    ).start()
    host.serve_main_thread()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
