"""Placement of model shards onto GPU servers (the part to improve is between the EVOLVE-BLOCK markers).

`place(shards, memory_gb, compute)` gets the shards as (memory in GB, compute demand) pairs and each
server's capacity in both, and returns, for each shard in order, the index of the server it goes on.
No server may hold more memory or compute than its capacity. Fewer servers is better.
"""


# EVOLVE-BLOCK-START
def place(shards, memory_gb, compute):
    """First fit: each shard, in the given order, goes on the first server with room for it."""
    used_memory, used_compute, placement = [], [], []
    for size, load in shards:
        for server in range(len(used_memory)):
            if used_memory[server] + size <= memory_gb and used_compute[server] + load <= compute:
                break
        else:
            server = len(used_memory)
            used_memory.append(0.0)
            used_compute.append(0.0)
        used_memory[server] += size
        used_compute[server] += load
        placement.append(server)
    return placement


# EVOLVE-BLOCK-END
