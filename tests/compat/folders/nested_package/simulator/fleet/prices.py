from fleet.kinds import ON_DEMAND, SPOT


def hourly_price(hour: int, kind: str) -> float:
    if kind == SPOT:
        return 1.0 if hour % 4 else 5.0  # spot is cheap, but every fourth hour it is taken back
    if kind == ON_DEMAND:
        return 3.0
    raise ValueError(f"unknown machine kind {kind!r}")
