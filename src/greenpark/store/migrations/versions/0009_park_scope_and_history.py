"""park scope and record history: a user's zone; the park and batch of each audit event

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("zone_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_app_user_zone_id_zone"), "zone", ["zone_id"], ["id"])
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("park_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("batch", sa.String(length=200), nullable=False, server_default=""))
        batch_op.create_foreign_key(batch_op.f("fk_audit_event_park_id_park"), "park", ["park_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_audit_event_park_id"), ["park_id"], unique=False)
        batch_op.create_index("ix_audit_event_entity_key", ["entity", "entity_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_entity_key")
        batch_op.drop_index(batch_op.f("ix_audit_event_park_id"))
        batch_op.drop_constraint(batch_op.f("fk_audit_event_park_id_park"), type_="foreignkey")
        batch_op.drop_column("batch")
        batch_op.drop_column("park_id")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_app_user_zone_id_zone"), type_="foreignkey")
        batch_op.drop_column("zone_id")
