"""bookings: the bookings and their history; booking settings of services and offerings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 02:55:46.180260
"""

from collections.abc import Sequence

import advanced_alchemy.types.datetime
import sqlalchemy as sa
from alembic import op


revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)
HOLDS_SEAT = "status != 'cancelled'"


def upgrade() -> None:
    # Server defaults give the offerings and services that exist already their values.
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("min_notice_minutes", sa.Integer(), server_default=sa.text("120"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("horizon_days", sa.Integer(), server_default=sa.text("60"), nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_services_min_notice_not_negative"), "min_notice_minutes >= 0"
        )
        batch_op.create_check_constraint(
            op.f("ck_services_horizon_days_range"), "horizon_days BETWEEN 1 AND 366"
        )

    with op.batch_alter_table("office_services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seats", sa.Integer(), server_default=sa.text("1"), nullable=False))
        batch_op.create_check_constraint(op.f("ck_office_services_seats_positive"), "seats >= 1")

    op.create_table(
        "bookings",
        sa.Column("reference", sa.String(length=8), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTC_DATETIME, nullable=False),
        sa.Column("ends_at", UTC_DATETIME, nullable=False),
        sa.Column("seat", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("hold_expires_at", UTC_DATETIME, nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("needs", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", UTC_DATETIME, nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.CheckConstraint(
            "channel IN ('web', 'phone', 'desk', 'counter', 'api')", name=op.f("ck_bookings_channel_known")
        ),
        sa.CheckConstraint("language IN ('sv', 'en', 'fi')", name=op.f("ck_bookings_language_known")),
        sa.CheckConstraint(
            "status IN ('held', 'booked', 'cancelled', 'checked_in', 'served', 'no_show')",
            name=op.f("ck_bookings_status_known"),
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_bookings_ends_after_start")),
        sa.CheckConstraint("seat >= 1", name=op.f("ck_bookings_seat_positive")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_bookings_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_bookings_office_id_offices"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_bookings_service_id_services"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        sa.UniqueConstraint("reference", name=op.f("uq_bookings_reference")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index("ix_bookings_office_starts_at", ["office_id", "starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_service_id"), ["service_id"], unique=False)
        # The capacity guarantee: one holder per seat of a slot, among bookings not cancelled.
        batch_op.create_index(
            "ux_bookings_seat",
            ["office_id", "service_id", "starts_at", "seat"],
            unique=True,
            sqlite_where=sa.text(HOLDS_SEAT),
            postgresql_where=sa.text(HOLDS_SEAT),
        )

    op.create_table(
        "booking_events",
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_booking_events_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_booking_events_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_events")),
    )
    with op.batch_alter_table("booking_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_booking_events_booking_id"), ["booking_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("booking_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_events_booking_id"))
    op.drop_table("booking_events")

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index("ux_bookings_seat")
        batch_op.drop_index(batch_op.f("ix_bookings_service_id"))
        batch_op.drop_index("ix_bookings_office_starts_at")
    op.drop_table("bookings")

    with op.batch_alter_table("office_services", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_office_services_seats_positive"), type_="check")
        batch_op.drop_column("seats")

    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_services_horizon_days_range"), type_="check")
        batch_op.drop_constraint(op.f("ck_services_min_notice_not_negative"), type_="check")
        batch_op.drop_column("horizon_days")
        batch_op.drop_column("min_notice_minutes")
