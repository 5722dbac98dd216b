# EVOLVE-BLOCK-START
def weights(n: int) -> list[float]:
    return [1.0 / n] * n


# EVOLVE-BLOCK-END
