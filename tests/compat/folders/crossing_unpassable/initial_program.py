# EVOLVE-BLOCK-START
def run(lock, values):
    with lock:
        return sum(values)


# EVOLVE-BLOCK-END
