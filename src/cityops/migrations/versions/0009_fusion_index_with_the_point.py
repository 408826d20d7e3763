"""cases: the fusion index holds the case's point and its latest report's time

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 04:00:00.000000

The candidate query (cases/service.py) asks for open cases of a category in a few cells, inside a box around
the report's point, reported on lately. With the point and the time in the index, every one of those conditions
is checked on the index entry, and only the cases that meet them all are read from the table; before, every
case of the category in the cells was read to check its point.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_cases_fusion_cell_category_last_report", table_name="cases")
    op.create_index("ix_cases_fusion_cell_category_point_last_report", "cases",
                    ["fusion_cell", "category_code", "lat", "lng", "last_report_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_fusion_cell_category_point_last_report", table_name="cases")
    op.create_index("ix_cases_fusion_cell_category_last_report", "cases",
                    ["fusion_cell", "category_code", "last_report_at"])
