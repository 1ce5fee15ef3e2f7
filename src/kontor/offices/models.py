"""Districts, offices, the service catalogue and each office's offering, counters."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kontor.db.base import Base, IdMixin, Timestamped


class District(IdMixin, Base):
    __tablename__ = "districts"

    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))

    offices: Mapped[list[Office]] = relationship(back_populates="district", order_by="Office.name")


class Office(IdMixin, Timestamped, Base):
    __tablename__ = "offices"

    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="RESTRICT"), index=True)
    street: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    # ISO 639-1 codes of the languages the staff speak, e.g. ["sv", "en", "fi", "ar"].
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    accessibility: Mapped[str] = mapped_column(Text, default="")
    directions: Mapped[str] = mapped_column(Text, default="")
    # Local knowledge for the contact center's agents: what the office handles, who speaks what, tips.
    agent_notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Stockholm")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    district: Mapped[District] = relationship(back_populates="offices", lazy="joined")
    offerings: Mapped[list[OfficeService]] = relationship(
        back_populates="office", cascade="all, delete-orphan"
    )
    counters: Mapped[list[Counter]] = relationship(
        back_populates="office", cascade="all, delete-orphan", order_by="Counter.number"
    )

    @property
    def address(self) -> str:
        return ", ".join(part for part in (self.street, f"{self.postal_code} {self.city}".strip()) if part)


class Service(IdMixin, Base):
    """A kind of errand (ärendetyp) in the city's catalogue; names in the three UI languages."""

    __tablename__ = "services"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("min_notice_minutes >= 0", name="min_notice_not_negative"),
        CheckConstraint("horizon_days BETWEEN 1 AND 366", name="horizon_days_range"),
    )

    code: Mapped[str] = mapped_column(String(40), unique=True)
    letter: Mapped[str] = mapped_column(String(1))
    name_sv: Mapped[str] = mapped_column(String(160))
    name_en: Mapped[str] = mapped_column(String(160))
    name_fi: Mapped[str] = mapped_column(String(160))
    description_sv: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_fi: Mapped[str] = mapped_column(Text, default="")
    duration_minutes: Mapped[int] = mapped_column(default=20)
    bookable: Mapped[bool] = mapped_column(Boolean, default=True)
    walk_in: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    # Online booking: how long before a visit it can be booked at the latest, and how far ahead.
    min_notice_minutes: Mapped[int] = mapped_column(default=120, server_default=text("120"))
    horizon_days: Mapped[int] = mapped_column(default=60, server_default=text("60"))

    def name(self, locale: str) -> str:
        return getattr(self, f"name_{locale}", None) or self.name_sv

    def description(self, locale: str) -> str:
        return getattr(self, f"description_{locale}", None) or self.description_sv


class OfficeService(IdMixin, Base):
    """An office's offering of a service: whether it can be booked, walked in for, or both, there."""

    __tablename__ = "office_services"
    __table_args__ = (
        UniqueConstraint("office_id", "service_id"),
        CheckConstraint("seats >= 1", name="seats_positive"),
        CheckConstraint("phone_seats BETWEEN 0 AND seats", name="phone_seats_range"),
        CheckConstraint("phone_release_hours BETWEEN 0 AND 720", name="phone_release_hours_range"),
    )

    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"), index=True)
    bookable: Mapped[bool] = mapped_column(Boolean, default=True)
    walk_in: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Visits of this service the office can take in parallel in one slot (bookings per slot).
    seats: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    # Of those, kept for the contact center's agents (callers who cannot book online) until
    # phone_release_hours before the slot; then any still free are open to everyone.
    phone_seats: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    phone_release_hours: Mapped[int] = mapped_column(default=48, server_default=text("48"))

    office: Mapped[Office] = relationship(back_populates="offerings")
    service: Mapped[Service] = relationship(lazy="joined")

    @property
    def is_bookable(self) -> bool:
        return self.active and self.bookable and self.service.bookable

    @property
    def is_walk_in(self) -> bool:
        return self.active and self.walk_in and self.service.walk_in


class Counter(IdMixin, Base):
    """A counter (disk, lucka) where a clerk serves residents; numbered 1, 2, … within its office."""

    __tablename__ = "counters"
    __table_args__ = (
        UniqueConstraint("office_id", "number"),
        CheckConstraint("number > 0", name="number_positive"),
    )

    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(80), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    office: Mapped[Office] = relationship(back_populates="counters")
