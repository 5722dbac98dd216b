"""The context transcript (contract 4 of docs/architecture.md); it lives in `glia.record.transcript`.

Kept as an import path for the writers outside the record package (the ledger, black-box methods).
"""

from glia.record.transcript import (
    SCHEMA_VERSION,
    TRANSCRIPT_FILE,
    Transcript,
    TranscriptFollower,
    parse_line,
    read_events,
)

__all__ = [
    "SCHEMA_VERSION",
    "TRANSCRIPT_FILE",
    "Transcript",
    "TranscriptFollower",
    "parse_line",
    "read_events",
]
