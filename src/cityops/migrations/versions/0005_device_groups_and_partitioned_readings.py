"""device groups; readings keyed by (device, metric, ts) and, on PostgreSQL, partitioned by month

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 21:15:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from cityops.sensing.partitions import create_month_sql, month_start

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("group_code", sa.String(length=60), nullable=True))
        batch_op.create_index("ix_devices_group_code", ["group_code"], unique=False)

    op.rename_table("readings", "readings_old")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_readings_ts")
        op.execute("ALTER TABLE readings_old DROP CONSTRAINT IF EXISTS pk_readings")
        op.execute("CREATE TABLE readings (device_id VARCHAR(64) NOT NULL, metric VARCHAR(40) NOT NULL, "
                   "ts TIMESTAMP WITH TIME ZONE NOT NULL, value FLOAT NOT NULL, "
                   "CONSTRAINT pk_readings PRIMARY KEY (device_id, metric, ts)) PARTITION BY RANGE (ts)")
        op.execute("CREATE TABLE readings_default PARTITION OF readings DEFAULT")
        now = datetime.now(UTC)
        for offset in range(-2, 3):
            op.execute(create_month_sql(month_start(now, offset)))
        op.execute("CREATE INDEX ix_readings_ts ON readings (ts)")
    else:
        with op.batch_alter_table("readings_old", schema=None) as batch_op:
            batch_op.drop_index("ix_readings_ts")
        op.create_table(
            "readings",
            sa.Column("device_id", sa.String(length=64), nullable=False),
            sa.Column("metric", sa.String(length=40), nullable=False),
            sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
            sa.Column("value", sa.Float(), nullable=False),
            sa.PrimaryKeyConstraint("device_id", "metric", "ts", name=op.f("pk_readings")),
        )
        op.create_index("ix_readings_ts", "readings", ["ts"], unique=False)
    op.execute("INSERT INTO readings (device_id, metric, ts, value) "
               "SELECT device_id, metric, ts, value FROM readings_old")
    op.drop_table("readings_old")


def downgrade() -> None:
    op.rename_table("readings", "readings_new")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_readings_ts")
        op.execute("ALTER TABLE readings_new DROP CONSTRAINT IF EXISTS pk_readings")
    else:
        op.drop_index("ix_readings_ts", table_name="readings_new")
    op.create_table(
        "readings",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readings")),
    )
    op.create_index("ix_readings_ts", "readings", ["ts"], unique=False)
    op.create_index("ux_readings_device_metric_ts", "readings", ["device_id", "metric", "ts"], unique=True)
    op.execute("INSERT INTO readings (device_id, metric, ts, value) "
               "SELECT device_id, metric, ts, value FROM readings_new ORDER BY ts")
    op.drop_table("readings_new")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index("ix_devices_group_code")
        batch_op.drop_column("group_code")
