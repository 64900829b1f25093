from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class RowError:
    """One problem with one row of an ingest request."""

    index: int
    field: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


class RowsInvalid(Exception):
    """A batch has invalid rows; nothing of it was written."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} invalid row(s)")
        self.errors = sorted(errors, key=lambda e: (e.index, e.field))
