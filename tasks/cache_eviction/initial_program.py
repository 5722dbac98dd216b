"""An online cache-eviction policy (the part to improve is between the EVOLVE-BLOCK markers).

The evaluator calls `new_policy(capacity)` once per trace, then `policy.evict(incoming, recent, cached)`
each time a key misses and the cache is full:

- `incoming`: the key that missed (it goes into the cache once a victim leaves);
- `recent`: the keys accessed since the previous `evict` call, oldest first (hits, and misses that
  found room), not counting the `incoming` key of that previous call;
- `cached`: the keys in the cache now.

It must return one key of `cached`: the one to evict.
"""

from collections import OrderedDict


# EVOLVE-BLOCK-START
class Policy:
    """Least recently used: evict the key whose last access is the oldest."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.order: OrderedDict[int, None] = OrderedDict()

    def _touch(self, key: int) -> None:
        self.order.pop(key, None)
        self.order[key] = None

    def evict(self, incoming: int, recent: list[int], cached: list[int]) -> int:
        for key in recent:
            self._touch(key)
        present = set(cached)
        for key in list(self.order):
            if key not in present:
                del self.order[key]
        for key in cached:
            if key not in self.order:
                self.order[key] = None
                self.order.move_to_end(key, last=False)
        victim = next(iter(self.order))
        del self.order[victim]
        self._touch(incoming)
        return victim


# EVOLVE-BLOCK-END


def new_policy(capacity: int) -> Policy:
    return Policy(capacity)
