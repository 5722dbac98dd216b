"""A tiny job-shop simulator the program imports from its own folder (as ADRS folders do)."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Job:
    name: str
    length: int


@dataclass
class Schedule:
    order: list = field(default_factory=list)

    def makespan_weighted(self, jobs):
        by_name = {job.name: job for job in jobs}
        clock, total = 0, 0
        for name in self.order:
            clock += by_name[name].length
            total += clock
        return total


def jobs():
    return [Job("a", 5), Job("b", 1), Job("c", 3), Job("d", 2)]
