"""the reporting and verification cycle

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mrv_log_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("signed_utc", sa.DateTime(), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("signature_b64", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mrv_log_head")),
    )
    op.create_table(
        "mrv_body",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("accreditation", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("private_key_enc", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["park_id"], ["park.id"], name=op.f("fk_mrv_body_park_id_park")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mrv_body")),
        sa.UniqueConstraint("park_id", "code", name=op.f("uq_mrv_body_park_id")),
    )
    op.create_table(
        "mrv_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("owner_kind", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=100), nullable=False),
        sa.Column("uploaded_utc", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprise.id"], name=op.f("fk_mrv_attachment_enterprise_id_enterprise")
        ),
        sa.ForeignKeyConstraint(["park_id"], ["park.id"], name=op.f("fk_mrv_attachment_park_id_park")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mrv_attachment")),
    )
    with op.batch_alter_table("mrv_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mrv_attachment_enterprise_id"), ["enterprise_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mrv_attachment_park_id"), ["park_id"], unique=False)

    op.create_table(
        "mrv_dqcp",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("revision_trigger", sa.String(length=32), nullable=False),
        sa.Column("revision_note", sa.Text(), nullable=False),
        sa.Column("guideline", sa.String(length=64), nullable=False),
        sa.Column("boundary", sa.Text(), nullable=False),
        sa.Column("facilities_json", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("filed_by", sa.String(length=100), nullable=False),
        sa.Column("filed_utc", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprise.id"], name=op.f("fk_mrv_dqcp_enterprise_id_enterprise")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mrv_dqcp")),
        sa.UniqueConstraint("enterprise_id", "version", name=op.f("uq_mrv_dqcp_enterprise_id")),
    )
    with op.batch_alter_table("mrv_dqcp", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mrv_dqcp_enterprise_id"), ["enterprise_id"], unique=False)

    op.create_table(
        "mrv_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("submitted_by", sa.String(length=100), nullable=False),
        sa.Column("submitted_utc", sa.DateTime(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprise.id"], name=op.f("fk_mrv_evidence_enterprise_id_enterprise")
        ),
        sa.ForeignKeyConstraint(["park_id"], ["park.id"], name=op.f("fk_mrv_evidence_park_id_park")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mrv_evidence")),
        sa.UniqueConstraint(
            "enterprise_id", "year", "month", "version", name=op.f("uq_mrv_evidence_enterprise_id")
        ),
    )
    with op.batch_alter_table("mrv_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mrv_evidence_enterprise_id"), ["enterprise_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mrv_evidence_park_id"), ["park_id"], unique=False)

    op.create_table(
        "mrv_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at_utc", sa.DateTime(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=True),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("prev_sha256", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprise.id"], name=op.f("fk_mrv_log_enterprise_id_enterprise")
        ),
        sa.ForeignKeyConstraint(["park_id"], ["park.id"], name=op.f("fk_mrv_log_park_id_park")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mrv_log")),
        sa.UniqueConstraint("seq", name=op.f("uq_mrv_log_seq")),
    )
    with op.batch_alter_table("mrv_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mrv_log_enterprise_id"), ["enterprise_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mrv_log_park_id"), ["park_id"], unique=False)

    op.create_table(
        "mrv_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("guideline", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("grid_factor_ref", sa.String(length=200), nullable=False),
        sa.Column("heat_factor_ref", sa.String(length=200), nullable=False),
        sa.Column("combustion_co2_t", sa.Float(), nullable=False),
        sa.Column("process_co2_t", sa.Float(), nullable=False),
        sa.Column("electricity_co2_t", sa.Float(), nullable=False),
        sa.Column("heat_co2_t", sa.Float(), nullable=False),
        sa.Column("total_excl_purchased_co2_t", sa.Float(), nullable=False),
        sa.Column("total_co2_t", sa.Float(), nullable=False),
        sa.Column("energy_tce", sa.Float(), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("submitted_by", sa.String(length=100), nullable=False),
        sa.Column("submitted_utc", sa.DateTime(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=100), nullable=False),
        sa.Column("reviewed_utc", sa.DateTime(), nullable=True),
        sa.Column("review_comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprise.id"], name=op.f("fk_mrv_report_enterprise_id_enterprise")
        ),
        sa.ForeignKeyConstraint(["park_id"], ["park.id"], name=op.f("fk_mrv_report_park_id_park")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mrv_report")),
        sa.UniqueConstraint("enterprise_id", "year", "version", name=op.f("uq_mrv_report_enterprise_id")),
    )
    with op.batch_alter_table("mrv_report", schema=None) as batch_op:
        batch_op.create_index("ix_mrv_report_scope", ["park_id", "year", "enterprise_id"], unique=False)

    op.create_table(
        "mrv_unit_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("included", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("decided_utc", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprise.id"], name=op.f("fk_mrv_unit_decision_enterprise_id_enterprise")
        ),
        sa.ForeignKeyConstraint(["park_id"], ["park.id"], name=op.f("fk_mrv_unit_decision_park_id_park")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mrv_unit_decision")),
    )
    with op.batch_alter_table("mrv_unit_decision", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mrv_unit_decision_scope", ["park_id", "year", "enterprise_id"], unique=False
        )

    op.create_table(
        "mrv_body_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["body_id"], ["mrv_body.id"], name=op.f("fk_mrv_body_member_body_id_mrv_body")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_mrv_body_member_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mrv_body_member")),
        sa.UniqueConstraint("body_id", "user_id", name=op.f("uq_mrv_body_member_body_id")),
    )
    with op.batch_alter_table("mrv_body_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mrv_body_member_body_id"), ["body_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mrv_body_member_user_id"), ["user_id"], unique=False)

    op.create_table(
        "mrv_dqcp_parameter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dqcp_id", sa.Integer(), nullable=False),
        sa.Column("parameter", sa.String(length=32), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("meter", sa.String(length=200), nullable=False),
        sa.Column("accuracy", sa.String(length=64), nullable=False),
        sa.Column("calibration", sa.String(length=200), nullable=False),
        sa.Column("monitoring_frequency", sa.String(length=64), nullable=False),
        sa.Column("recording_frequency", sa.String(length=64), nullable=False),
        sa.Column("missing_data_rule", sa.Text(), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["dqcp_id"], ["mrv_dqcp.id"], name=op.f("fk_mrv_dqcp_parameter_dqcp_id_mrv_dqcp")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mrv_dqcp_parameter")),
    )
    with op.batch_alter_table("mrv_dqcp_parameter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mrv_dqcp_parameter_dqcp_id"), ["dqcp_id"], unique=False)

    op.create_table(
        "mrv_evidence_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.Column("parameter", sa.String(length=32), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["evidence_id"], ["mrv_evidence.id"], name=op.f("fk_mrv_evidence_value_evidence_id_mrv_evidence")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mrv_evidence_value")),
    )
    with op.batch_alter_table("mrv_evidence_value", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mrv_evidence_value_evidence_id"), ["evidence_id"], unique=False)

    op.create_table(
        "mrv_report_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("check", sa.String(length=32), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("result", sa.String(length=8), nullable=False),
        sa.Column("reported", sa.Float(), nullable=True),
        sa.Column("reference", sa.Float(), nullable=True),
        sa.Column("difference_fraction", sa.Float(), nullable=True),
        sa.Column("tolerance_fraction", sa.Float(), nullable=True),
        sa.Column("detail_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["mrv_report.id"], name=op.f("fk_mrv_report_check_report_id_mrv_report")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mrv_report_check")),
    )
    with op.batch_alter_table("mrv_report_check", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mrv_report_check_report_id"), ["report_id"], unique=False)

    op.create_table(
        "mrv_report_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=16), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("ncv_gj_per_unit", sa.Float(), nullable=True),
        sa.Column("ncv_source", sa.String(length=16), nullable=False),
        sa.Column("carbon_content_tc_per_gj", sa.Float(), nullable=True),
        sa.Column("carbon_content_source", sa.String(length=16), nullable=False),
        sa.Column("oxidation_fraction", sa.Float(), nullable=True),
        sa.Column("oxidation_source", sa.String(length=16), nullable=False),
        sa.Column("factor", sa.Float(), nullable=True),
        sa.Column("factor_unit", sa.String(length=32), nullable=False),
        sa.Column("factor_ref", sa.String(length=200), nullable=False),
        sa.Column("co2_t", sa.Float(), nullable=True),
        sa.Column("energy_tce", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"], ["mrv_report.id"], name=op.f("fk_mrv_report_line_report_id_mrv_report")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mrv_report_line")),
    )
    with op.batch_alter_table("mrv_report_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mrv_report_line_report_id"), ["report_id"], unique=False)

    op.create_table(
        "mrv_verification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("initial_report_id", sa.Integer(), nullable=False),
        sa.Column("final_report_id", sa.Integer(), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("assigned_by", sa.String(length=100), nullable=False),
        sa.Column("assigned_utc", sa.DateTime(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("coi_declared_by", sa.String(length=100), nullable=False),
        sa.Column("coi_declared_utc", sa.DateTime(), nullable=True),
        sa.Column("coi_statement", sa.Text(), nullable=False),
        sa.Column("doc_review_json", sa.Text(), nullable=False),
        sa.Column("doc_review_by", sa.String(length=100), nullable=False),
        sa.Column("doc_review_utc", sa.DateTime(), nullable=True),
        sa.Column("site_visit_date", sa.Date(), nullable=True),
        sa.Column("site_visit_team", sa.String(length=400), nullable=False),
        sa.Column("site_visit_record", sa.Text(), nullable=False),
        sa.Column("site_visit_json", sa.Text(), nullable=False),
        sa.Column("conclusion", sa.String(length=8), nullable=False),
        sa.Column("reported_total_co2_t", sa.Float(), nullable=True),
        sa.Column("verified_total_co2_t", sa.Float(), nullable=True),
        sa.Column("verified_energy_tce", sa.Float(), nullable=True),
        sa.Column("differences_json", sa.Text(), nullable=False),
        sa.Column("concluded_by", sa.String(length=100), nullable=False),
        sa.Column("concluded_utc", sa.DateTime(), nullable=True),
        sa.Column("statement_docx", sa.LargeBinary(), nullable=True),
        sa.Column("statement_sha256", sa.String(length=64), nullable=False),
        sa.Column("statement_signature_b64", sa.Text(), nullable=False),
        sa.Column("notified_utc", sa.DateTime(), nullable=True),
        sa.Column("appeal_due_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["body_id"], ["mrv_body.id"], name=op.f("fk_mrv_verification_body_id_mrv_body")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprise.id"], name=op.f("fk_mrv_verification_enterprise_id_enterprise")
        ),
        sa.ForeignKeyConstraint(
            ["final_report_id"],
            ["mrv_report.id"],
            name=op.f("fk_mrv_verification_final_report_id_mrv_report"),
        ),
        sa.ForeignKeyConstraint(
            ["initial_report_id"],
            ["mrv_report.id"],
            name=op.f("fk_mrv_verification_initial_report_id_mrv_report"),
        ),
        sa.ForeignKeyConstraint(["park_id"], ["park.id"], name=op.f("fk_mrv_verification_park_id_park")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mrv_verification")),
    )
    with op.batch_alter_table("mrv_verification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mrv_verification_body_id"), ["body_id"], unique=False)
        batch_op.create_index("ix_mrv_verification_scope", ["park_id", "year", "enterprise_id"], unique=False)

    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("park_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject_json", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=False),
        sa.Column("created_utc", sa.DateTime(), nullable=False),
        sa.Column("read_utc", sa.DateTime(), nullable=True),
        sa.Column("email_status", sa.String(length=64), nullable=False),
        sa.Column("robot_status", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["park_id"], ["park.id"], name=op.f("fk_notification_park_id_park")),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_notification_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_notification_user_id")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_user_read", ["user_id", "read_utc"], unique=False)

    op.create_table(
        "mrv_appeal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("verification_id", sa.Integer(), nullable=False),
        sa.Column("filed_by", sa.String(length=100), nullable=False),
        sa.Column("filed_utc", sa.DateTime(), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("decision_due_date", sa.Date(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("revised_total_co2_t", sa.Float(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("decided_utc", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["verification_id"],
            ["mrv_verification.id"],
            name=op.f("fk_mrv_appeal_verification_id_mrv_verification"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mrv_appeal")),
    )
    with op.batch_alter_table("mrv_appeal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mrv_appeal_verification_id"), ["verification_id"], unique=False)

    op.create_table(
        "mrv_nonconformity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("verification_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("clause", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("opened_by", sa.String(length=100), nullable=False),
        sa.Column("opened_utc", sa.DateTime(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("responded_by", sa.String(length=100), nullable=False),
        sa.Column("responded_utc", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=False),
        sa.Column("closed_utc", sa.DateTime(), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=False),
        sa.Column("estimate_co2_t", sa.Float(), nullable=True),
        sa.Column("estimate_reasoning", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["verification_id"],
            ["mrv_verification.id"],
            name=op.f("fk_mrv_nonconformity_verification_id_mrv_verification"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mrv_nonconformity")),
        sa.UniqueConstraint("verification_id", "number", name=op.f("uq_mrv_nonconformity_verification_id")),
    )
    with op.batch_alter_table("mrv_nonconformity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mrv_nonconformity_verification_id"), ["verification_id"], unique=False
        )

    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("email")

    with op.batch_alter_table("mrv_nonconformity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mrv_nonconformity_verification_id"))

    op.drop_table("mrv_nonconformity")
    with op.batch_alter_table("mrv_appeal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mrv_appeal_verification_id"))

    op.drop_table("mrv_appeal")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_user_read")

    op.drop_table("notification")
    with op.batch_alter_table("mrv_verification", schema=None) as batch_op:
        batch_op.drop_index("ix_mrv_verification_scope")
        batch_op.drop_index(batch_op.f("ix_mrv_verification_body_id"))

    op.drop_table("mrv_verification")
    with op.batch_alter_table("mrv_report_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mrv_report_line_report_id"))

    op.drop_table("mrv_report_line")
    with op.batch_alter_table("mrv_report_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mrv_report_check_report_id"))

    op.drop_table("mrv_report_check")
    with op.batch_alter_table("mrv_evidence_value", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mrv_evidence_value_evidence_id"))

    op.drop_table("mrv_evidence_value")
    with op.batch_alter_table("mrv_dqcp_parameter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mrv_dqcp_parameter_dqcp_id"))

    op.drop_table("mrv_dqcp_parameter")
    with op.batch_alter_table("mrv_body_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mrv_body_member_user_id"))
        batch_op.drop_index(batch_op.f("ix_mrv_body_member_body_id"))

    op.drop_table("mrv_body_member")
    with op.batch_alter_table("mrv_unit_decision", schema=None) as batch_op:
        batch_op.drop_index("ix_mrv_unit_decision_scope")

    op.drop_table("mrv_unit_decision")
    with op.batch_alter_table("mrv_report", schema=None) as batch_op:
        batch_op.drop_index("ix_mrv_report_scope")

    op.drop_table("mrv_report")
    with op.batch_alter_table("mrv_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mrv_log_park_id"))
        batch_op.drop_index(batch_op.f("ix_mrv_log_enterprise_id"))

    op.drop_table("mrv_log")
    with op.batch_alter_table("mrv_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mrv_evidence_park_id"))
        batch_op.drop_index(batch_op.f("ix_mrv_evidence_enterprise_id"))

    op.drop_table("mrv_evidence")
    with op.batch_alter_table("mrv_dqcp", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mrv_dqcp_enterprise_id"))

    op.drop_table("mrv_dqcp")
    with op.batch_alter_table("mrv_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mrv_attachment_park_id"))
        batch_op.drop_index(batch_op.f("ix_mrv_attachment_enterprise_id"))

    op.drop_table("mrv_attachment")
    op.drop_table("mrv_body")
    op.drop_table("mrv_log_head")
