"""Reads the public decode-length attribute (and swallows the error), as a careless design might."""

import contextlib

from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    def schedule(self):
        for request in self.request_queue:
            with contextlib.suppress(Exception):
                self.peek = request.num_decode_tokens
        return self.route_all(lambda r: 0)
