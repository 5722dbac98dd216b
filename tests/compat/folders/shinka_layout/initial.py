# EVOLVE-BLOCK-START
def run_experiment(width: int) -> list[int]:
    """Pick `width` numbers; the score is their sum, each must be below 10."""
    return [9 - (i % 3) for i in range(width)]


# EVOLVE-BLOCK-END
