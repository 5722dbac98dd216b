"""Reporting each benchmark run to Glia's simulation ledger, the way the bundled simulator does.

Inside a Glia workspace `GLIA_LEDGER` names a unix socket (mounted at /run/glia/ledger.sock). Each run
holds one conversation, one JSON object per line: `{"op": "start", "conditions": {...}, "result_dir":
..., "call": ...}`, answered `{"ok": true, "simulation": N}` (run it) or `{"ok": false, "error": ...}`
(do not: the budget is spent); then `{"op": "end", "valid": ..., "error": ..., "summary": {...}}`. When
`GLIA_LEDGER` is set but the ledger cannot be used, the run is refused: an uncounted run is never the
quiet fallback. Outside Glia nothing is reported.
"""

from __future__ import annotations

import json
import math
import os
import socket
import stat
from collections.abc import Mapping
from typing import Any

ENV_VAR = "GLIA_LEDGER"
CALL_ENV_VAR = "GLIA_CALL"
SOCKET_PATH = "/run/glia/ledger.sock"
MAX_LINE_BYTES = 64 * 1024
MAX_FIELDS = 60
TIMEOUT_S = 300.0  # the host snapshots the tree before it answers


class LedgerRefused(RuntimeError):
    """The run must not happen: the ledger said no, or cannot be reached although it should be."""


def ledger_path() -> str | None:
    value = os.environ.get(ENV_VAR, "")
    if value:
        return value
    try:
        return SOCKET_PATH if stat.S_ISSOCK(os.stat(SOCKET_PATH).st_mode) else None
    except OSError:
        return None


class Report:
    """One run's report: `start` before evaluating, `end` after (a close without `end` is a crash)."""

    def __init__(self) -> None:
        self.path = ledger_path()
        self.sock: socket.socket | None = None
        self.simulation: int | None = None

    def start(self, conditions: Mapping[str, Any], result_dir: str) -> int | None:
        if self.path is None:
            return None
        message = {
            "op": "start",
            "conditions": _scalars(conditions),
            "result_dir": result_dir[:2000],
            "call": (os.environ.get(CALL_ENV_VAR) or None),
        }
        try:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(TIMEOUT_S)
            self.sock.connect(self.path)
            _send(self.sock, message)
            answer = _answer(self.sock)
        except (OSError, ValueError) as exc:
            self.close()
            raise LedgerRefused(
                f"{ENV_VAR} is set ({self.path}) but Glia's ledger is not usable ({exc}); the run was not "
                f"started because it could not be counted. Outside Glia, unset {ENV_VAR}."
            ) from None
        if answer.get("ok") is not True:
            self.close()
            raise LedgerRefused(f"Glia refused this run: {answer.get('error') or 'no reason given'}")
        self.simulation = answer["simulation"]
        return self.simulation

    def end(self, valid: bool, error: str | None, summary: Mapping[str, Any]) -> None:
        if self.sock is None:
            return
        message = {
            "op": "end",
            "valid": bool(valid),
            "error": None if error is None else str(error)[:2000],
            "summary": _scalars(summary),
        }
        try:
            _send(self.sock, message)
        except (OSError, ValueError):
            pass  # counted at start; without an end the ledger records a crash
        finally:
            self.close()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def _scalars(data: Mapping[str, Any]) -> dict[str, Any]:
    """What the ledger accepts: at most MAX_FIELDS short keys with finite scalar values."""
    kept: dict[str, Any] = {}
    for key, value in data.items():
        if len(kept) >= MAX_FIELDS:
            break
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        if value is None or isinstance(value, bool | int | float):
            kept[str(key)[:64]] = value
        elif isinstance(value, str):
            kept[str(key)[:64]] = value[:2000]
    return kept


def _send(sock: socket.socket, message: Mapping[str, Any]) -> None:
    line = json.dumps(message, allow_nan=False, separators=(",", ":")).encode() + b"\n"
    if len(line) > MAX_LINE_BYTES:
        raise ValueError(f"a ledger message of {len(line)} bytes is too long")
    sock.sendall(line)


def _answer(sock: socket.socket) -> dict[str, Any]:
    buffer = b""
    while b"\n" not in buffer:
        chunk = sock.recv(4096)
        if not chunk:
            raise ValueError("the ledger hung up without answering")
        buffer += chunk
        if len(buffer) > MAX_LINE_BYTES:
            raise ValueError("the ledger's answer is too long")
    answer = json.loads(buffer.split(b"\n", 1)[0])
    ok = isinstance(answer, dict) and (
        (answer.get("ok") is True and isinstance(answer.get("simulation"), int)) or answer.get("ok") is False
    )
    if not ok:
        raise ValueError(f"unexpected answer {buffer[:200]!r}")
    return answer
