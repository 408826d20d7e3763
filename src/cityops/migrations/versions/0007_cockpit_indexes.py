"""cockpit: indexes for the leader cockpit's figures

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 09:00:00.000000

Open and overdue cases per region are counted from (state, region_code, stage_due_at) alone (an index-only scan
on PostgreSQL), and the last 30 days of cases by category are read by received_at.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_state_region_stage_due", ["state", "region_code", "stage_due_at"],
                              unique=False)
        batch_op.create_index("ix_cases_received_at", ["received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_received_at")
        batch_op.drop_index("ix_cases_state_region_stage_due")
