"""The guard that hides decode lengths from design code while it runs (see ``llmsim/request.py``).

Its state (is design code running? which violations happened?) lives in a closure, not in attributes,
so design code has no flag to flip: ``ROUTER_GUARD`` offers only ``enter()`` / ``leave(token)`` and a
read-only ``active``. ``hide_slot`` removes a ``__slots__`` descriptor from a class and returns the only
functions that reach the value, which check the guard first: the request's total length and the decode
pool's completion schedule are stored that way. This module imports nothing from the simulator, so the
request, the decode pool and the design slots all sit above it.
"""

from __future__ import annotations

from llmsim.errors import HiddenInformationError, RouterError

HIDDEN_ADVICE = (
    "decode lengths are unknown at routing time in a real system "
    "(use prompt tokens, processed tokens, restarts, queues, blocks)"
)


class _Guard:
    """Read-only facade over the guard's closure state (no attributes, none can be set)."""

    __slots__ = ()

    def __setattr__(self, name, value):
        raise AttributeError("the router guard cannot be modified")

    __delattr__ = __setattr__


def _build_guard():
    tokens: list[object] = []  # one per nested guarded call in progress; non-empty = router code runs
    violations: list[str] = []

    def enter() -> object:
        """Start a guarded (router) call; returns the token ``leave`` needs."""
        if not tokens:
            violations.clear()
        token = object()
        tokens.append(token)
        return token

    def leave(token: object) -> list[str]:
        """End the guarded call started with ``token``; returns the violations recorded in it.
        Raises RouterError if router code entered the guard itself and did not leave it."""
        if not tokens or tokens[-1] is not token:
            foreign = token in tokens
            if foreign:
                del tokens[tokens.index(token) :]
            else:
                tokens.clear()
            raise RouterError("router code tampered with the simulator's router guard")
        tokens.pop()
        return list(violations)

    def hidden(what: str, request_id: int | None) -> HiddenInformationError:
        whose = "" if request_id is None else f" of request {request_id}"
        message = f"router read {what}{whose}: {HIDDEN_ADVICE}"
        violations.append(message)
        return HiddenInformationError(message)

    def hide_slot(cls: type, slot: str, what: str):
        """Remove ``slot``'s descriptor from ``cls`` (so no attribute name reaches it) and return
        guarded ``(read, write)`` functions for it."""
        descriptor = cls.__dict__[slot]
        delattr(cls, slot)
        get, put = descriptor.__get__, descriptor.__set__

        def read(obj, owner_id, name=what):
            if tokens:
                raise hidden(name, owner_id)
            return get(obj)

        def write(obj, value, owner_id):
            if tokens:
                raise hidden(what, owner_id)
            put(obj, value)

        return read, write

    guard = _Guard()
    _Guard.active = property(lambda self: bool(tokens), doc="True while router code runs")
    _Guard.enter = staticmethod(enter)
    _Guard.leave = staticmethod(leave)
    return guard, hide_slot


ROUTER_GUARD, hide_slot = _build_guard()
