"""data hub: a masked copy stored beside each dataset row

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 01:00:00.000000

Each row keeps its shared copy (every field as a grant with nothing approved in clear receives it), and each
dataset the signature of the schema and masking rules the copies were made with (datahub/shared_copy.py). Rows
stored before this revision have no copy: their datasets are masked on read until the next write makes them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shared_signature", sa.String(length=64), nullable=True))
    with op.batch_alter_table("dataset_rows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shared", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dataset_rows", schema=None) as batch_op:
        batch_op.drop_column("shared")
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_column("shared_signature")
