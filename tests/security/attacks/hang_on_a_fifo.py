"""Blocks forever reading a FIFO in the middle of its first decision."""

import os

from llmsim.global_schedulers.base import GlobalScheduler


class AIGlobalScheduler(GlobalScheduler):
    def schedule(self):
        path = "/tmp/glia-attack-fifo"
        if not os.path.exists(path):
            os.mkfifo(path)
        with open(path) as handle:  # no writer: blocks
            handle.read()
        return []
