# EVOLVE-BLOCK-START
def smooth(values: list[float]) -> list[float]:
    return [(a + b) / 2 for a, b in zip(values, values[1:] + values[-1:], strict=False)]


# EVOLVE-BLOCK-END
