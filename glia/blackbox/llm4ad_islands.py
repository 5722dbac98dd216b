"""FunSearch's islands holding at most N programs each (the Glia paper's Table 1: 20), without patching LLM4AD.

LLM4AD 1.11's `ProgramsDatabase` keeps every program an island is given: its `Island` has no size limit
and `ProgramsDatabaseConfig` no setting for one. Every program reaches an island through one method,
`ProgramsDatabase._register_function_in_island` (a sample, the template given to every island, the founder
of an island that is reset), so a subclass that trims the island after that call holds the limit on every
path. Trimming drops the lowest-scoring program (the oldest of that score first); an island's best program
is never dropped. Only the database's public pieces are used to trim: the island's `clusters`, a
`Cluster`'s `programs`, score and constructor.
"""

from __future__ import annotations

from typing import Any

ISLAND_CAPACITY = 20  # Table 1 of the Glia paper


def capped_database(config: Any, template: Any, function_name: str, capacity: int) -> Any:
    """A FunSearch programs database whose islands hold at most `capacity` programs each."""
    from llm4ad.method.funsearch.programs_database import Cluster, ProgramsDatabase

    class CappedProgramsDatabase(ProgramsDatabase):
        """LLM4AD's database, with each island trimmed to `capacity` programs after every registration."""

        def _register_function_in_island(self, function: Any, island_id: int, score: Any) -> None:
            super()._register_function_in_island(function, island_id, score)
            trim(self.islands[island_id], capacity, Cluster)

    return CappedProgramsDatabase(config, template, function_name)


def refill(database: Any, source: Any) -> Any:
    """`database` given every program of `source` (another programs database), island by island."""
    for island_id, island in enumerate(source.islands[: len(database.islands)]):
        for cluster in list(island.clusters.values()):
            for program in list(cluster.programs):
                database.register_function(program, island_id, cluster.score)
    return database


def held(island: Any) -> int:
    """How many programs an island holds now."""
    return sum(len(cluster.programs) for cluster in island.clusters.values())


def trim(island: Any, capacity: int, cluster_class: Any) -> None:
    """Drop the island's lowest-scoring programs (oldest first) until it holds at most `capacity`."""
    clusters = island.clusters
    while held(island) > capacity:  # capacity >= 1: the best score always keeps a program
        worst = min(clusters, key=lambda signature: clusters[signature].score)
        kept = list(clusters[worst].programs)[1:]
        if not kept:
            del clusters[worst]
            continue
        cluster = cluster_class(clusters[worst].score, kept[0])
        for program in kept[1:]:
            cluster.register_program(program)
        clusters[worst] = cluster


def islands_held(database: Any, capacity: int) -> dict[str, Any]:
    """What the run's facts say about the islands at the end: the limit and what each island held."""
    return {
        "capacity": capacity,
        "held": [held(island) for island in database.islands],
        "registered": [int(island.get_num_programs()) for island in database.islands],
    }
