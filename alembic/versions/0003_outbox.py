"""outbox: messages to residents; contact key of bookings; expired holds free their seats

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 04:11:01.133664
"""

from collections.abc import Sequence

import advanced_alchemy.types.datetime
import sqlalchemy as sa
from alembic import op


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "status IN ('held', 'expired', 'booked', 'cancelled', 'checked_in', 'served', 'no_show')"
OLD_STATUSES = "status IN ('held', 'booked', 'cancelled', 'checked_in', 'served', 'no_show')"
HOLDS_SEAT = "status NOT IN ('cancelled', 'expired')"
OLD_HOLDS_SEAT = "status != 'cancelled'"
SEAT_COLUMNS = ["office_id", "service_id", "starts_at", "seat"]


def _seat_rules(statuses: str, holds_seat: str) -> None:
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_bookings_status_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_bookings_status_known"), statuses)
        batch_op.drop_index("ux_bookings_seat")
        batch_op.create_index(
            "ux_bookings_seat",
            SEAT_COLUMNS,
            unique=True,
            sqlite_where=sa.text(holds_seat),
            postgresql_where=sa.text(holds_seat),
        )


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("office_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("calendar", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column("sent_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.CheckConstraint("channel IN ('email', 'sms')", name=op.f("ck_outbox_messages_channel_known")),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed')", name=op.f("ck_outbox_messages_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_outbox_messages_booking_id_bookings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["office_id"],
            ["offices.id"],
            name=op.f("fk_outbox_messages_office_id_offices"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_messages_booking_id"), ["booking_id"], unique=False)
        batch_op.create_index("ix_outbox_messages_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_messages_office_id"), ["office_id"], unique=False)

    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_key", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_bookings_contact_key"), ["contact_key"], unique=False)
    _seat_rules(STATUSES, HOLDS_SEAT)


def downgrade() -> None:
    op.execute("UPDATE bookings SET status = 'cancelled' WHERE status = 'expired'")
    _seat_rules(OLD_STATUSES, OLD_HOLDS_SEAT)
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bookings_contact_key"))
        batch_op.drop_column("contact_key")

    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_messages_office_id"))
        batch_op.drop_index("ix_outbox_messages_due")
        batch_op.drop_index(batch_op.f("ix_outbox_messages_booking_id"))

    op.drop_table("outbox_messages")
