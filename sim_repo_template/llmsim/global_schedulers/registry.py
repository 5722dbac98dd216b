"""Routers by name (``--router``)."""

from __future__ import annotations

from llmsim.global_schedulers.ai_global_scheduler import AIGlobalScheduler
from llmsim.global_schedulers.base import GlobalScheduler
from llmsim.global_schedulers.llq import LLQGlobalScheduler
from llmsim.global_schedulers.lor import LORGlobalScheduler
from llmsim.global_schedulers.random_scheduler import RandomGlobalScheduler
from llmsim.global_schedulers.round_robin import RoundRobinGlobalScheduler

ROUTERS: dict[str, type[GlobalScheduler]] = {
    "ai": AIGlobalScheduler,
    "random": RandomGlobalScheduler,
    "round_robin": RoundRobinGlobalScheduler,
    "llq": LLQGlobalScheduler,
    "lor": LORGlobalScheduler,
}


def router_class(name: str) -> type[GlobalScheduler]:
    try:
        return ROUTERS[name]
    except KeyError:
        raise ValueError(f"unknown router {name!r}; choose from {', '.join(ROUTERS)}") from None
