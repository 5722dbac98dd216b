"""Routes the first 100 requests and holds every later one forever."""

from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    def schedule(self):
        return [
            (0, self.request_queue.pop(0))
            for _ in range(len(self.request_queue))
            if self.request_queue and self.request_queue[0].id < 100
        ]
