"""The booking POST target's bodies: every request books a different free seat, with an e-mail address
of its own, so each one that the server can serve answers 201 and none is a cheap 409."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# A listed start this close to the notice limit could stop being bookable while the bench runs.
NOTICE_MARGIN = timedelta(minutes=15)


@dataclass
class SeatPool:
    """Free seats as the slot starts to book, one entry per seat, round the slots: the n-th request
    books the n-th entry, so bookings spread over the slots as residents' do."""

    office: str
    service: str
    slots: int
    starts: list[str] = field(default_factory=list)
    used: int = 0

    @classmethod
    def from_listing(cls, office: str, service: str, listing: list[dict], earliest: datetime) -> SeatPool:
        """The seats of a slots API listing whose start is at or after ``earliest``."""
        usable = [slot for slot in listing if datetime.fromisoformat(slot["start"]) >= earliest]
        most = max((slot["seats_left"] for slot in usable), default=0)
        starts = [slot["start"] for seat in range(most) for slot in usable if slot["seats_left"] > seat]
        return cls(office, service, len(usable), starts)

    @property
    def size(self) -> int:
        return len(self.starts)

    @property
    def exhausted(self) -> bool:
        return self.used >= self.size

    def next_body(self) -> bytes | None:
        """The next booking's JSON body, or None when every seat is taken."""
        if self.exhausted:
            return None
        start = self.starts[self.used]
        self.used += 1
        visitor = {"name": f"Bench Visitor {self.used}", "email": f"bench-{self.used}@example.se"}
        return json.dumps(
            {"office": self.office, "service": self.service, "start": start, **visitor}
        ).encode()

    def summary(self) -> dict:
        return {
            "slots": self.slots,
            "seats": self.size,
            "booked_or_tried": self.used,
            "exhausted": self.exhausted,
        }
