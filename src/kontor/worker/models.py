"""The worker's periodic jobs: when each runs next, who holds it, and what its last run did.

A job is claimed by a conditional UPDATE of its row, so with several workers each run happens once;
the row also keeps the last run's counts for the admin pages (the last purge, for one).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from kontor.db.base import Base, utcnow


class WorkerJob(Base):
    __tablename__ = "worker_jobs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Held by one worker until then; a worker that died mid-run lets the job go when it passes.
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str] = mapped_column(String(100), default="")
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    # What the last run did, as counts (never personal data), and its error type if it failed.
    last_result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    runs: Mapped[int] = mapped_column(default=0)
