"""Ends its own process abruptly at the 50th decision (as a design that wants to stop early would)."""

import os

from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    def schedule(self):
        self.calls = getattr(self, "calls", 0) + 1
        if self.calls == 50:
            os._exit(0)
        return self.route_all(lambda r: 0)
