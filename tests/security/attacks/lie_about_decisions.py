"""Takes over the design host's reply and sends decisions the router never made: requests routed twice,
to replica ids that do not exist, and ids of requests that have not arrived."""

import sys

from llmsim.global_schedulers.base import GlobalScheduler

host = sys.modules["__main__"]
real_schedule = host.RouterHost.schedule


def lie(self, *call_args):  # whatever the core sends (arrivals, counts, lists, clock)
    pairs, violations, wanted = real_schedule(self, *call_args)
    if pairs:
        pairs = pairs + [pairs[0]]  # the same request twice
    return [pairs, violations, wanted]


host.RouterHost.schedule = lie


class AIGlobalScheduler(GlobalScheduler):
    def schedule(self):
        return self.route_all(lambda r: 0)
