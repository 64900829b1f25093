"""What the chunked background jobs share (the rescore of a lead definition, its what-if)."""

from __future__ import annotations


class ChunkProgress:
    """`progress` (0..1) of a job with `status`, `done` of `total` chunks' rows and a `DONE`
    status: finished means 1, however the count ended."""

    @property
    def progress(self) -> float:
        if self.status == self.Status.DONE:
            return 1.0
        return min(self.done / self.total, 1.0) if self.total else 0.0
