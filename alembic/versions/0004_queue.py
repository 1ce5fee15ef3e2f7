"""queue: tickets, their numbers and history

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 05:59:05.765811
"""

from collections.abc import Sequence

import advanced_alchemy.types.datetime
import sqlalchemy as sa
from alembic import op


revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ticket_sequences",
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.CheckConstraint("last_number >= 1", name=op.f("ck_ticket_sequences_last_number_positive")),
        sa.ForeignKeyConstraint(
            ["office_id"],
            ["offices.id"],
            name=op.f("fk_ticket_sequences_office_id_offices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_ticket_sequences_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("office_id", "service_id", "day", name=op.f("pk_ticket_sequences")),
    )
    op.create_table(
        "tickets",
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=True),
        sa.Column("needs_help", sa.Boolean(), nullable=False),
        sa.Column("issued_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("called_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("served_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("finished_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("counter_id", sa.Integer(), nullable=True),
        sa.Column("called_by_id", sa.Integer(), nullable=True),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.CheckConstraint("channel IN ('desk', 'api', 'counter')", name=op.f("ck_tickets_channel_known")),
        sa.CheckConstraint("kind IN ('walk_in', 'booking')", name=op.f("ck_tickets_kind_known")),
        sa.CheckConstraint(
            "status IN ('waiting', 'called', 'served', 'no_show', 'closed', 'cancelled')",
            name=op.f("ck_tickets_status_known"),
        ),
        sa.CheckConstraint("number >= 1", name=op.f("ck_tickets_number_positive")),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_tickets_booking_id_bookings"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["called_by_id"], ["users.id"], name=op.f("fk_tickets_called_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["counter_id"], ["counters.id"], name=op.f("fk_tickets_counter_id_counters"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["issued_by_id"], ["users.id"], name=op.f("fk_tickets_issued_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_tickets_office_id_offices"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_tickets_service_id_services"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint(
            "office_id",
            "service_id",
            "day",
            "number",
            name=op.f("uq_tickets_office_id_service_id_day_number"),
        ),
        sa.UniqueConstraint("token_hash", name=op.f("uq_tickets_token_hash")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tickets_booking_id"), ["booking_id"], unique=False)
        batch_op.create_index(
            "ix_tickets_office_status_issued_at", ["office_id", "status", "issued_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_tickets_service_id"), ["service_id"], unique=False)

    op.create_table(
        "ticket_events",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_ticket_events_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_ticket_events_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_events")),
    )
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_events_ticket_id"), ["ticket_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_events_ticket_id"))

    op.drop_table("ticket_events")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_service_id"))
        batch_op.drop_index("ix_tickets_office_status_issued_at")
        batch_op.drop_index(batch_op.f("ix_tickets_booking_id"))

    op.drop_table("tickets")
    op.drop_table("ticket_sequences")
