# EVOLVE-BLOCK-START
def order(transactions: list[tuple[int, int]]) -> list[int]:
    """An order in which to run transactions (id, length): the objective is the mean completion time."""
    return [tid for tid, _ in transactions]


# EVOLVE-BLOCK-END
