"""Supervision: monthly status history, check plans and random draws, locked inspections, problems,
letters and leaders' meetings.

Revision ID: 0004_supervision
Revises: 0003_inspections
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0004_supervision"
down_revision = "0003_inspections"
branch_labels = None
depends_on = None


def _now(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _fk(column: str, target: str, table: str, **kw) -> sa.Column:
    ref_table = target.split(".")[0]
    return sa.Column(
        column,
        kw.pop("type_", sa.Integer),
        sa.ForeignKey(target, name=f"fk_{table}_{column}_{ref_table}", ondelete=kw.pop("ondelete", None)),
        **kw,
    )


def upgrade() -> None:
    """Create the supervision schema."""
    op.create_table(
        "project_month_status",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("project_id", "projects.id", "project_month_status", nullable=False, ondelete="CASCADE"),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("ytd_completed_yuan", sa.Numeric(16, 2), nullable=False),
        sa.Column("ytd_expected_yuan", sa.Numeric(16, 2), nullable=False),
        sa.Column("ratio", sa.Float),
        _now("computed_at"),
        sa.UniqueConstraint("project_id", "month", name="uq_project_month_status_project_id"),
        sa.CheckConstraint(
            "status IN ('not_started', 'pending', 'on_track', 'lagging', 'seriously_lagging', 'completed')",
            name="ck_project_month_status_status",
        ),
    )

    op.create_table(
        "random_draws",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("inputs", JSONB, nullable=False),
        sa.Column("result", JSONB, nullable=False),
        _fk("created_by_id", "users.id", "random_draws"),
        _now("created_at"),
    )

    op.create_table(
        "check_plans",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("planned_date", sa.Date, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="planned"),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        _fk("draw_id", "random_draws.id", "check_plans"),
        _fk("created_by_id", "users.id", "check_plans"),
        _now("created_at"),
        sa.Column("carried_out_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("kind IN ('daily', 'periodic', 'special')", name="ck_check_plans_kind"),
        sa.CheckConstraint("status IN ('planned', 'carried_out', 'cancelled')", name="ck_check_plans_status"),
    )
    op.create_table(
        "check_plan_projects",
        _fk("plan_id", "check_plans.id", "check_plan_projects", primary_key=True, ondelete="CASCADE"),
        _fk("project_id", "projects.id", "check_plan_projects", primary_key=True),
    )
    op.create_table(
        "check_plan_inspectors",
        _fk("plan_id", "check_plans.id", "check_plan_inspectors", primary_key=True, ondelete="CASCADE"),
        _fk("user_id", "users.id", "check_plan_inspectors", primary_key=True),
    )

    op.add_column("inspections", _fk("check_plan_id", "check_plans.id", "inspections"))
    op.add_column("inspections", sa.Column("submitted_at", sa.DateTime(timezone=True)))
    op.add_column("inspections", sa.Column("version", sa.Integer, nullable=False, server_default="1"))
    op.add_column(
        "inspections", _fk("supersedes_id", "inspections.id", "inspections", type_=UUID(as_uuid=True))
    )
    op.create_index("ix_inspections_check_plan_id", "inspections", ["check_plan_id"])
    # A submitted inspection record is locked: corrections are new versions (supersedes_id).
    op.execute(
        """
        CREATE FUNCTION inspections_locked() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.status = 'submitted' THEN
                RAISE EXCEPTION 'inspection % is submitted and locked', OLD.id
                    USING ERRCODE = 'P0001', CONSTRAINT = 'inspection_locked';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER trg_inspections_locked BEFORE UPDATE OR DELETE ON inspections
            FOR EACH ROW EXECUTE FUNCTION inspections_locked();
        """
    )

    op.create_table(
        "problems",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("project_id", "projects.id", "problems", nullable=False),
        _fk("inspection_id", "inspections.id", "problems", type_=UUID(as_uuid=True)),
        sa.Column("description", sa.Text, nullable=False),
        _fk("responsible_unit_id", "units.id", "problems", nullable=False),
        sa.Column("found_on", sa.Date, nullable=False),
        sa.Column("deadline", sa.Date, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, server_default="open"),
        sa.Column("rectification_note", sa.Text, nullable=False, server_default=""),
        _fk("created_by_id", "users.id", "problems"),
        _now("created_at"),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        _fk("closed_by_id", "users.id", "problems"),
        sa.Column("escalated_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("deadline >= found_on", name="ck_problems_deadline_after_finding"),
        sa.CheckConstraint("status IN ('open', 'rectifying', 'closed')", name="ck_problems_status"),
    )
    op.create_index("ix_problems_project_id", "problems", ["project_id"])
    op.create_table(
        "problem_photos",
        _fk("problem_id", "problems.id", "problem_photos", primary_key=True, ondelete="CASCADE"),
        _fk("photo_id", "photos.id", "problem_photos", primary_key=True, type_=UUID(as_uuid=True)),
        sa.Column("phase", sa.String(10), nullable=False),
        sa.CheckConstraint("phase IN ('before', 'after')", name="ck_problem_photos_phase"),
    )

    op.create_table(
        "letters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("serial", sa.Integer),
        _fk("project_id", "projects.id", "letters", nullable=False),
        _fk("addressee_unit_id", "units.id", "letters", nullable=False),
        sa.Column("rule", sa.String(60), nullable=False),
        sa.Column("facts", sa.Text, nullable=False),
        sa.Column("deadline", sa.Date),
        sa.Column("status", sa.String(20), nullable=False, server_default="proposed"),
        _now("proposed_at"),
        sa.Column("issued_at", sa.DateTime(timezone=True)),
        _fk("issued_by_id", "users.id", "letters"),
        sa.Column("document_key", sa.String(80)),
        sa.UniqueConstraint("year", "serial", name="uq_letters_year"),
        sa.CheckConstraint("kind IN ('reminder', 'push', 'supervision')", name="ck_letters_kind"),
        sa.CheckConstraint("status IN ('proposed', 'issued', 'dismissed')", name="ck_letters_status"),
        sa.CheckConstraint("status <> 'issued' OR serial IS NOT NULL", name="ck_letters_issued_numbered"),
    )
    op.create_index("ix_letters_project_id", "letters", ["project_id"])

    op.create_table(
        "project_progress_photos",
        _fk(
            "progress_id",
            "project_progress.id",
            "project_progress_photos",
            primary_key=True,
            ondelete="CASCADE",
        ),
        _fk("photo_id", "photos.id", "project_progress_photos", primary_key=True, type_=UUID(as_uuid=True)),
    )

    op.create_table(
        "leader_meetings",
        sa.Column("id", sa.Integer, primary_key=True),
        _fk("leader_id", "users.id", "leader_meetings", nullable=False),
        _fk("project_id", "projects.id", "leader_meetings", nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        _fk("created_by_id", "users.id", "leader_meetings"),
        _now("created_at"),
    )


def downgrade() -> None:
    """Drop the supervision schema."""
    for table in ("leader_meetings", "project_progress_photos", "letters", "problem_photos", "problems"):
        op.drop_table(table)
    op.execute("DROP TRIGGER IF EXISTS trg_inspections_locked ON inspections")
    op.execute("DROP FUNCTION IF EXISTS inspections_locked()")
    op.drop_index("ix_inspections_check_plan_id", table_name="inspections")
    for column in ("supersedes_id", "version", "submitted_at", "check_plan_id"):
        op.drop_column("inspections", column)
    for table in (
        "check_plan_inspectors",
        "check_plan_projects",
        "check_plans",
        "random_draws",
        "project_month_status",
    ):
        op.drop_table(table)
