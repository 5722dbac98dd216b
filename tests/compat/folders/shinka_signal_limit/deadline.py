"""A per-move time limit kept with SIGALRM, as games often do: it works only on a main thread."""

import signal


class TooSlow(Exception):
    pass


def _raise(signum, frame):
    raise TooSlow()


def within(seconds, function, *args, fallback=None):
    """Call `function(*args)`; past `seconds` of wall clock, return `fallback` instead."""
    previous = signal.signal(signal.SIGALRM, _raise)  # ValueError off the main thread
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return function(*args)
    except TooSlow:
        return fallback
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def play(choose, rounds):
    """Each round the player picks a number under a time limit; the total is the score."""
    return sum(within(0.5, choose, turn, fallback=0) for turn in range(rounds))
