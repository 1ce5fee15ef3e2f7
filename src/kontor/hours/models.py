"""Stored opening hours: weekly intervals with seasons, and closures or special hours by date."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kontor.db.base import Base, IdMixin, Timestamped


class WeeklyHours(IdMixin, Base):
    __tablename__ = "weekly_hours"
    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
        CheckConstraint("closes > opens", name="closes_after_opens"),
        CheckConstraint("kind IN ('drop_in', 'appointment')", name="kind_known"),
        CheckConstraint(
            "valid_from IS NULL OR valid_until IS NULL OR valid_until >= valid_from", name="valid_range"
        ),
        Index("ix_weekly_hours_office_weekday", "office_id", "weekday"),
    )

    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"))
    weekday: Mapped[int]
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)
    kind: Mapped[str] = mapped_column(String(20), default="drop_in")
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)


class Closure(IdMixin, Timestamped, Base):
    """Closed, or open on special hours, from first_day to last_day inclusive."""

    __tablename__ = "closures"
    __table_args__ = (
        CheckConstraint("last_day >= first_day", name="day_range"),
        Index("ix_closures_office_days", "office_id", "first_day", "last_day"),
    )

    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")

    intervals: Mapped[list[ClosureInterval]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ClosureInterval.opens"
    )


class ClosureInterval(IdMixin, Base):
    __tablename__ = "closure_intervals"
    __table_args__ = (
        CheckConstraint("closes > opens", name="closes_after_opens"),
        CheckConstraint("kind IN ('drop_in', 'appointment')", name="kind_known"),
    )

    closure_id: Mapped[int] = mapped_column(ForeignKey("closures.id", ondelete="CASCADE"), index=True)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)
    kind: Mapped[str] = mapped_column(String(20), default="drop_in")
