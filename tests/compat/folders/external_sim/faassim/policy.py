"""The scheduling policy: the part to improve. It keeps its state on the scheduler object it is given."""


def setup(s):
    s.waiting_queue = []  # state on the object given, the simulator's own style
    s.picked = 0


def pick(s, now):
    s.picked += 1
    return min(s.waiting_queue, key=lambda inv: inv.duration)
