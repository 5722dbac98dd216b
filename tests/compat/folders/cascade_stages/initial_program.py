# EVOLVE-BLOCK-START
def spread(values):
    return max(values) - min(values)


# EVOLVE-BLOCK-END
