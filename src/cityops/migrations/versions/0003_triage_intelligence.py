"""triage intelligence

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 04:40:36.960932
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "training_examples",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("report_public_id", sa.String(length=40), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_examples")),
    )
    with op.batch_alter_table("training_examples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_examples_report_public_id"), ["report_public_id"], unique=False)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fusion_cell", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("last_report_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_cases_category_last_report", ["category_code", "last_report_at"], unique=False)
        batch_op.create_index(
            "ix_cases_fusion_cell_category_last_report",
            ["fusion_cell", "category_code", "last_report_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_fusion_cell_category_last_report")
        batch_op.drop_index("ix_cases_category_last_report")
        batch_op.drop_column("last_report_at")
        batch_op.drop_column("fusion_cell")

    with op.batch_alter_table("training_examples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_examples_report_public_id"))

    op.drop_table("training_examples")
