"""A request's lifecycle and the rule that routers cannot see decode lengths.

A real router knows a request's prompt but not how many tokens the model will generate. The
simulator enforces that at run time. While router code runs (its constructor, ``add_request`` and
``schedule``), touching anything that reveals a decode length raises ``HiddenInformationError`` and
the run is invalid, even if the router catches the exception. That covers the public
``num_decode_tokens``, the simulator-side ``_total_tokens`` (prompt + decode), however they are
reached (``request.x``, ``getattr`` with a name built at run time), and the decode pool's
completion schedule (``DecodePool``), the only other place a decode length is stored.

How it is enforced (the guard itself is ``llmsim/router_guard.py``):
* The decode length is stored in no attribute a router can name: it sits in a ``__slots__`` slot
  whose descriptor is removed from the class, and the only way to it is a reader function that
  checks the guard first.
* The guard's state (is router code running? which violations happened?) lives in a closure, not
  in an attribute: there is no flag router code can flip. ``ROUTER_GUARD`` only offers
  ``enter()`` / ``leave(token)`` and a read-only ``active``; router code calling ``enter()`` can
  only make the guard stricter, and the simulator then fails the run because the guard was not
  left as it set it (``leave`` checks its own token).
This is a run-time guard for ordinary Python code, not a sandbox: introspecting closures, frames
or the garbage collector, or monkeypatching simulator classes, are beyond it; the design rules
forbid reading other objects' private (``_``) attributes, which covers those.

Token accounting follows vidur: prefill processes ``num_prefill_tokens`` (possibly in chunks); the
iteration that finishes the prefill also produces the first output token (TTFT), and every later
decode iteration produces one more. A preempted request restarts with *recompute*: everything it
had processed becomes its new prefill, and it keeps only what remains to be generated as decode.
"""

from __future__ import annotations

from typing import Protocol

from llmsim.router_guard import hide_slot


class TokenCounter(Protocol):
    """Where a decoding request's processed tokens are counted (its replica's decode pool)."""

    def processed_tokens_of(self, request: Request) -> int: ...


class Request:
    """One inference request. Public read-only attributes are what a router may use."""

    __slots__ = (
        "id",
        "arrived_at",
        "num_prompt_tokens",
        "num_prefill_tokens",
        "num_restarts",
        "is_prefill_complete",
        "replica_id",
        "routed_at",
        "scheduled_at",
        "first_token_at",
        "completed_at",
        "preempted_at",
        "execution_time",
        "preemption_time",
        "_hidden_total",  # prompt + decode tokens; its descriptor is removed below (guarded reader)
        "_processed",
        "_blocks",
        "_replica",
        "_in_pool",
        "_pool_key",
        "_pool_time_key",
        "_pool_epoch",
        "view",  # the router's read-only view of this request (llmsim/views.py), made on first use
    )

    def __init__(self, request_id: int, arrived_at: float, num_prompt_tokens: int, num_decode_tokens: int):
        if num_prompt_tokens < 1 or num_decode_tokens < 1:
            raise ValueError(f"request {request_id}: prompt and decode lengths must be >= 1")
        self.id = request_id
        self.arrived_at = arrived_at
        self.num_prompt_tokens = num_prompt_tokens  # the original prompt
        self.num_prefill_tokens = num_prompt_tokens  # grows on restart (recompute)
        self.num_restarts = 0
        self.is_prefill_complete = False
        self.replica_id: int | None = None
        self.routed_at: float | None = None
        self.scheduled_at: float | None = None  # first admission on a replica
        self.first_token_at: float | None = None
        self.completed_at: float | None = None
        self.preempted_at: float | None = None
        self.execution_time = 0.0  # time spent inside batches, including work later thrown away
        self.preemption_time = 0.0  # time between a preemption and the re-admission
        _write_total(self, num_prompt_tokens + num_decode_tokens, request_id)
        self._processed = 0
        self._blocks = 0  # KV blocks held while in prefill (decode-phase blocks live in DecodePool)
        self._replica: TokenCounter | None = None  # the replica it was routed to
        self._in_pool = False
        self._pool_key = 0
        self._pool_time_key = 0.0
        self._pool_epoch = 0
        self.view = None

    # ---- what a router may read -------------------------------------------------------------

    @property
    def num_processed_tokens(self) -> int:
        """Tokens processed so far (prefill progress, then one more per generated token)."""
        if self._in_pool:
            return self._replica.processed_tokens_of(self)
        return self._processed

    @property
    def is_completed(self) -> bool:
        return self.completed_at is not None

    # ---- hidden from routers (raise HiddenInformationError while router code runs) -----------

    @property
    def num_decode_tokens(self) -> int:
        """Tokens still to generate after the current prefill. Unknown to a real router."""
        return _read_total(self, self.id, "num_decode_tokens") - self.num_prefill_tokens

    @property
    def _total_tokens(self) -> int:
        """Prompt + decode tokens, for the simulator's own bookkeeping."""
        return _read_total(self, self.id)

    # ---- simulator-side mutations -----------------------------------------------------------

    def restart(self, now: float) -> None:
        """Recompute semantics: processed tokens become prefill, progress and KV cache are lost."""
        self.num_prefill_tokens = max(self.num_prefill_tokens, self._processed)
        self._processed = 0
        self._blocks = 0
        self.is_prefill_complete = False
        self.num_restarts += 1
        self.preempted_at = now

    def __repr__(self) -> str:
        return (
            f"Request(id={self.id}, arrived_at={self.arrived_at:.3f}, prefill={self.num_prefill_tokens}, "
            f"processed={self.num_processed_tokens}, restarts={self.num_restarts})"
        )


_read_total, _write_total = hide_slot(Request, "_hidden_total", "_total_tokens")
