# EVOLVE-BLOCK-START
def run_experiment(seed: int, size: int = 4) -> list[float]:
    """Place `size` points in [0, 1]; the score is their smallest gap."""
    return [i / (size - 1) for i in range(size)] if seed % 2 else [i / size for i in range(size)]


# EVOLVE-BLOCK-END
