"""an index for the status board's months of evidence

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mrv_evidence", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mrv_evidence_scope", ["park_id", "year", "enterprise_id", "month", "late"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("mrv_evidence", schema=None) as batch_op:
        batch_op.drop_index("ix_mrv_evidence_scope")
