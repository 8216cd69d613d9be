"""record history: the enterprise and zone whose record an audit event is about

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enterprise_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("zone_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_event_enterprise_id_enterprise"), "enterprise", ["enterprise_id"], ["id"]
        )
        batch_op.create_foreign_key(batch_op.f("fk_audit_event_zone_id_zone"), "zone", ["zone_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_audit_event_enterprise_id"), ["enterprise_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_enterprise_id"))
        batch_op.drop_constraint(batch_op.f("fk_audit_event_zone_id_zone"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_audit_event_enterprise_id_enterprise"), type_="foreignkey")
        batch_op.drop_column("zone_id")
        batch_op.drop_column("enterprise_id")
