# EVOLVE-BLOCK-START
def order(transactions):
    """Reads first, then writes; each by arrival."""
    reads = [t for t in transactions if t.kind.name == "READ"]
    writes = [t for t in transactions if t.kind.name != "READ"]
    chosen = sorted(reads, key=lambda t: t.arrival) + sorted(writes, key=lambda t: t.arrival)
    return [t.ident for t in chosen]


# EVOLVE-BLOCK-END
