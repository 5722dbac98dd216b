# EVOLVE-BLOCK-START
def sort_values(values):
    return sorted(values)


# EVOLVE-BLOCK-END
