"""Calling design code in this process: decode lengths hidden, its failures named after its slot.

Every in-process slot (router, replica scheduler, autoscaler) calls its design through ``guarded``; the
remote slots word the violations the design process reports with ``hidden_message``. Below the slots,
above the guard (``llmsim/router_guard.py``).
"""

from __future__ import annotations

from llmsim.errors import DesignError, HiddenInformationError, RouterError, SafetyLimitError
from llmsim.router_guard import ROUTER_GUARD


def guarded(
    what: str,
    call,
    *args,
    _enter=ROUTER_GUARD.enter,
    _leave=ROUTER_GUARD.leave,
    who: str = "router",
    error: type[DesignError] = RouterError,
):
    """Run design code with decode lengths hidden; turn its failures into `error` (RouterError for a
    router). The guard functions are bound when this module loads, so rebinding module names cannot
    bypass them. `who` names the design slot in messages ("router", "replica scheduler", ...)."""
    token = _enter()
    try:
        result = call(*args)
    except HiddenInformationError as exc:
        _leave(token)
        if who == "router":
            raise
        raise HiddenInformationError(hidden_message(str(exc), who)) from None
    except SafetyLimitError:
        _leave(token)
        raise
    except Exception as exc:  # the design's own bug: report it, do not hide it
        violations = _leave(token)
        if violations:
            raise HiddenInformationError(hidden_message(violations[0], who)) from exc
        raise error(f"{who} {what} raised {type(exc).__name__}: {exc}") from exc
    except BaseException:
        _leave(token)
        raise
    violations = _leave(token)
    if violations:
        raise HiddenInformationError(hidden_message(violations[0], who))
    return result


def hidden_message(message: str, who: str) -> str:
    """The guard words its messages for routers; name the slot that really read the hidden field."""
    if who != "router" and message.startswith("router read"):
        return who + message[len("router") :]
    return message
