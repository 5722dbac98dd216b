"""Reporting each simulation to Glia's ledger, when the simulator runs inside a Glia workspace.

Glia charges its simulation budget where simulations happen: `Simulator.run()` calls this module, so
a run counts however it was started (`./run_all.sh`, `python -m llmsim run` with any `--output-root`,
or a script calling `simulate()` in process) and whatever happens to its result folder afterwards.

Outside Glia the environment variable `GLIA_LEDGER` is unset and nothing is reported. When it is set
(or, in a Glia sandbox, when the socket is mounted at /run/glia/ledger.sock even if the variable was
unset), it names a unix socket and every simulation holds one short conversation on it (one JSON object
per line, UTF-8, at most 64 KiB a line):

1. the simulator sends `{"op": "start", "conditions": {...}, "result_dir": "..." | null, "call": "..." | null}`
   (`call`: `GLIA_CALL`, which Glia sets for each command, so a run left in the background is still
   attributed to the command that started it);
2. the ledger answers `{"ok": true, "simulation": N}` (run it: it is simulation N of this context) or
   `{"ok": false, "error": "..."}` (do not run it, e.g. the simulation budget is spent);
3. when the run is over the simulator sends
   `{"op": "end", "valid": bool, "error": str | null, "summary": {...} | null}` and closes.

A connection that closes without `end` is a run that crashed or was killed. If `GLIA_LEDGER` is set
but the socket cannot be reached or answers anything else, the simulator refuses to run: an uncounted
simulation is never the quiet fallback. Only the standard library is used.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import socket
import stat
import struct
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV_VAR = "GLIA_LEDGER"
CALL_ENV_VAR = "GLIA_CALL"  # the Glia command this process descends from (set per command)
GLIA_SOCKET_PATH = "/run/glia/ledger.sock"  # where a Glia sandbox mounts the ledger
MAX_LINE_BYTES = 64 * 1024
CONNECT_TIMEOUT_S = 10.0
# The ledger snapshots the design before it answers, which can take a while for a large tree.
ACK_TIMEOUT_S = 300.0
SEND_TIMEOUT_S = 10.0
MAX_TEXT = 2000  # characters kept of an error message or a result folder

REPO_ROOT = Path(__file__).resolve().parents[1]


class LedgerError(RuntimeError):
    """The simulation must not run: Glia's ledger refused it or cannot be reached."""


class LedgerUnavailable(LedgerError):
    """`GLIA_LEDGER` is set but the ledger does not answer as it should."""


class LedgerRefused(LedgerError):
    """The ledger answered no (for example: the simulation budget of this run is spent)."""


def ledger_socket(environ: Mapping[str, str] | None = None) -> str | None:
    """The socket named by `GLIA_LEDGER`, or None when simulations are not reported.

    In a Glia sandbox the socket is mounted at `GLIA_SOCKET_PATH`; a command that unsets the variable
    is still reported there (outside Glia that path does not exist)."""
    value = (os.environ if environ is None else environ).get(ENV_VAR, "")
    if value:
        return value
    return GLIA_SOCKET_PATH if _is_socket(GLIA_SOCKET_PATH) else None


def _is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


class RunReport:
    """The report of one simulation: `start` before it runs, `end` after (or `close` without one).

    `Simulator.run()` calls `start` and then `finished`. With `summary_follows=False` (in-process use)
    `finished` sends `end` at once, without a summary; `run_and_record` passes `summary_follows=True`
    and calls `end` itself with the summary it wrote. Each report covers exactly one simulation.
    """

    def __init__(
        self,
        result_dir: str | None = None,
        summary_follows: bool = False,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.result_dir = result_dir
        self.summary_follows = summary_follows
        self.path = ledger_socket(environ)
        self.call = (os.environ if environ is None else environ).get(CALL_ENV_VAR) or None
        self.simulation: int | None = None
        self._sock: socket.socket | None = None
        self._started = False
        self._ended = False

    def start(self, conditions: Mapping[str, Any]) -> int | None:
        """Announce the run; returns its simulation number (None outside Glia). Raises LedgerError
        when the run must not happen."""
        if self._started:
            raise RuntimeError("a RunReport reports one simulation; make a new one for the next run")
        self._started = True
        if self.path is None:
            return None
        self._sock = _connect(self.path)
        message = {
            "op": "start",
            "conditions": dict(conditions),
            "result_dir": _text(self.result_dir),
            "call": _text(self.call),
        }
        try:
            _send(self._sock, message)
            answer = _read_answer(self._sock)
        except LedgerError:
            self.close()
            raise
        except OSError as exc:
            self.close()
            raise LedgerUnavailable(_unavailable(self.path, f"the conversation failed ({exc})")) from None
        if answer.get("ok") is not True:
            self.close()
            raise LedgerRefused(f"Glia refused this simulation: {answer.get('error') or 'no reason given'}")
        self.simulation = answer["simulation"]
        return self.simulation

    def finished(self, valid: bool, error: str | None) -> None:
        """Called by `Simulator.run()` when the simulation is over (valid or not)."""
        if not self.summary_follows:
            self.end(valid, error, None)

    def end(self, valid: bool, error: str | None = None, summary: Mapping[str, Any] | None = None) -> None:
        """Send the outcome and close. Best effort: the run was counted when it started."""
        if self._sock is None or self._ended:
            return
        self._ended = True
        message = {
            "op": "end",
            "valid": bool(valid),
            "error": _text(error),
            "summary": _finite(dict(summary)) if summary is not None else None,
        }
        try:
            _send(self._sock, message)
        except (OSError, ValueError):
            pass  # the ledger already counted the run; without an end it is recorded as crashed
        finally:
            self.close()

    def close(self) -> None:
        """Hang up; a started run that sent no `end` is recorded by the ledger as crashed."""
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def __enter__(self) -> RunReport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def simulation_conditions(
    config: Any, requests: list[Any], router: object, num_blocks: int
) -> dict[str, Any]:
    """The run's configuration, normalised so Glia can tell benchmark runs from experiments.

    `router` is the simulator's router slot: a router class other than the
    one registered under `config.router` is reported as `custom:<module>.<class>`. The workload is
    `trace:<path>` (relative to the repository root when inside it) or
    `generated:qps=..,seed=..,duration=..`, plus the request count and a digest of the requests
    actually simulated.
    """
    return {
        "router": _router_name(config.router, router),
        "workload": _workload_label(config),
        "duration": float(config.duration),
        "router_seed": int(getattr(config, "router_seed", config.seed)),
        "num_requests": len(requests),
        "workload_sha256": workload_digest(requests),
        "replica_scheduler": str(config.replica_scheduler),
        "num_replicas": int(config.num_replicas),
        "model": str(config.model),
        "device": str(config.device),
        "chunk_size": int(config.chunk_size),
        "batch_cap": int(config.batch_cap),
        "block_size": int(config.block_size),
        "num_blocks": int(num_blocks),
        "watermark_fraction": float(config.watermark_fraction),
    }


def workload_digest(requests: list[Any]) -> str:
    """sha256 of (arrival time, prompt tokens, total tokens) of every request, in order."""
    digest = hashlib.sha256()
    for request in requests:
        digest.update(
            struct.pack(
                "<dqq", float(request.arrived_at), int(request.num_prefill_tokens), request._total_tokens
            )
        )
    return digest.hexdigest()


def _router_name(name: str, router: object) -> str:
    """`name`, unless the router object in use is not the class registered under it. A slot whose
    router lives in another process (Glia's isolated evaluation) holds no router object here."""
    inner = getattr(router, "router", None)
    if inner is None:
        return str(name)
    from llmsim.global_schedulers.registry import router_class  # only the simulator needs the registry

    try:
        registered = router_class(name)
    except Exception:  # noqa: BLE001 - an unknown name with a class passed in: the class decides
        registered = None
    cls = type(inner)
    return str(name) if cls is registered else f"custom:{cls.__module__}.{cls.__qualname__}"


def _workload_label(config: Any) -> str:
    if config.trace:
        path = Path(config.trace).resolve()
        try:
            shown = path.relative_to(REPO_ROOT).as_posix()
        except ValueError:
            shown = path.as_posix()
        return f"trace:{shown}"
    return f"generated:qps={float(config.qps):g},seed={int(config.seed)},duration={float(config.duration):g}"


def _connect(path: str) -> socket.socket:
    """Connect, waiting while the ledger's queue of new connections is full (a burst of runs)."""
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(CONNECT_TIMEOUT_S)
        try:
            sock.connect(path)
            return sock
        except BlockingIOError:
            sock.close()
            if time.monotonic() > deadline:
                raise LedgerUnavailable(_unavailable(path, "it is too busy to take the connection")) from None
            time.sleep(0.05)
        except OSError as exc:
            sock.close()
            raise LedgerUnavailable(_unavailable(path, f"cannot connect ({exc.strerror or exc})")) from None


def _send(sock: socket.socket, message: Mapping[str, Any]) -> None:
    line = json.dumps(message, allow_nan=False, separators=(",", ":")).encode() + b"\n"
    if len(line) > MAX_LINE_BYTES:
        raise ValueError(f"ledger message of {len(line)} bytes exceeds {MAX_LINE_BYTES}")
    sock.settimeout(SEND_TIMEOUT_S)
    sock.sendall(line)


def _read_answer(sock: socket.socket) -> dict[str, Any]:
    """One answer line, checked strictly: anything unexpected means the ledger is not usable."""
    sock.settimeout(ACK_TIMEOUT_S)
    buffer = b""
    while b"\n" not in buffer:
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            raise LedgerUnavailable(_unavailable(None, f"no answer within {ACK_TIMEOUT_S:.0f} s")) from None
        if not chunk:
            raise LedgerUnavailable(_unavailable(None, "it hung up without answering"))
        buffer += chunk
        if len(buffer) > MAX_LINE_BYTES:
            raise LedgerUnavailable(_unavailable(None, "its answer is too long"))
    line = buffer.split(b"\n", 1)[0]
    try:
        answer = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise LedgerUnavailable(_unavailable(None, "its answer is not JSON")) from None
    well_formed = isinstance(answer, dict) and (
        (answer.get("ok") is True and _is_count(answer.get("simulation")))
        or (answer.get("ok") is False and isinstance(answer.get("error", ""), str | type(None)))
    )
    if not well_formed:
        raise LedgerUnavailable(_unavailable(None, f"unexpected answer {line[:200]!r}"))
    return answer


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _unavailable(path: str | None, why: str) -> str:
    where = f" ({path})" if path else ""
    return (
        f"{ENV_VAR} is set{where} but Glia's simulation ledger is not usable: {why}. The simulation was "
        f"not run, because it could not be counted; outside Glia, unset {ENV_VAR}."
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)[:MAX_TEXT]


def _finite(data: dict[str, Any]) -> dict[str, Any]:
    """A summary the strict JSON encoder accepts: NaN and infinities become null."""
    return {
        str(k): (None if isinstance(v, float) and not math.isfinite(v) else v)
        for k, v in data.items()
        if v is None or isinstance(v, str | int | float | bool)
    }
