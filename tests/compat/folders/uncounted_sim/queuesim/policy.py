def order(jobs):
    """The design: the order a single server runs the waiting jobs in (shortest first)."""
    return sorted(jobs)
