import enum
import importlib.util
from dataclasses import dataclass
from typing import NamedTuple


class Kind(enum.Enum):
    READ = "r"
    WRITE = "w"


class Window(NamedTuple):
    start: float
    end: float


@dataclass
class Txn:
    ident: int
    kind: Kind
    arrival: float
    window: Window


def evaluate(program_path):
    try:
        spec = importlib.util.spec_from_file_location("program", program_path)
        program = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(program)
        txns = [Txn(i, Kind.READ if i % 3 else Kind.WRITE, (7 * i) % 11, Window(i, i + 4)) for i in range(9)]
        chosen = program.order(txns)
        if sorted(chosen) != list(range(9)):
            return {"combined_score": 0.0}
        by_id = {t.ident: t for t in txns}
        on_time = sum(
            1
            for slot, ident in enumerate(chosen)
            if by_id[ident].window.start <= slot <= by_id[ident].window.end
        )
        reads_first = all(
            by_id[a].kind is Kind.READ or by_id[b].kind is not Kind.READ
            for a, b in zip(chosen, chosen[1:], strict=False)
        )
        return {"combined_score": on_time + (5.0 if reads_first else 0.0)}
    except Exception as exc:
        return {"combined_score": 0.0, "error": str(exc)}
