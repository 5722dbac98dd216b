"""Raises in the middle of a run."""

from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    def schedule(self):
        self.calls = getattr(self, "calls", 0) + 1
        if self.calls == 30:
            raise ZeroDivisionError("the design gave up")
        return self.route_all(lambda r: 0)
