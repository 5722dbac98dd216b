import helper_sim


# EVOLVE-BLOCK-START
def schedule(jobs):
    """Shortest job first."""
    return helper_sim.Schedule(order=[job.name for job in sorted(jobs, key=lambda job: job.length)])


# EVOLVE-BLOCK-END
