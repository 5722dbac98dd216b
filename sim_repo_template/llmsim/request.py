"""A request's lifecycle and the rule that routers cannot see decode lengths.

A real router knows a request's prompt but not how many tokens the model will generate. The
simulator enforces that: while a router's ``schedule()`` runs, reading ``num_decode_tokens`` raises
``HiddenInformationError`` and the run is invalid (even if the router catches the exception).

Token accounting follows vidur: prefill processes ``num_prefill_tokens`` (possibly in chunks); the
iteration that finishes the prefill also produces the first output token (TTFT), and every later
decode iteration produces one more. A preempted request restarts with *recompute*: everything it
had processed becomes its new prefill, and it keeps only what remains to be generated as decode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmsim.errors import HiddenInformationError

if TYPE_CHECKING:
    from llmsim.replica import Replica


class RouterGuard:
    """Set while a router runs; remembers any attempt to read hidden information."""

    def __init__(self) -> None:
        self.active = False
        self.violations: list[str] = []


ROUTER_GUARD = RouterGuard()


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
        "_total_tokens",
        "_processed",
        "_blocks",
        "_replica",
        "_in_pool",
        "_pool_key",
        "_pool_time_key",
        "_pool_epoch",
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
        self._total_tokens = num_prompt_tokens + num_decode_tokens
        self._processed = 0
        self._blocks = 0  # KV blocks held while in prefill (decode-phase blocks live in DecodePool)
        self._replica: Replica | None = None
        self._in_pool = False
        self._pool_key = 0
        self._pool_time_key = 0.0
        self._pool_epoch = 0

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

    # ---- hidden from routers ----------------------------------------------------------------

    @property
    def num_decode_tokens(self) -> int:
        """Tokens still to generate after the current prefill. Unknown to a real router."""
        if ROUTER_GUARD.active:
            message = (
                f"router read num_decode_tokens of request {self.id}: decode lengths are unknown "
                "at routing time in a real system (use prompt tokens, processed tokens, queues, blocks)"
            )
            ROUTER_GUARD.violations.append(message)
            raise HiddenInformationError(message)
        return self._total_tokens - self.num_prefill_tokens

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
