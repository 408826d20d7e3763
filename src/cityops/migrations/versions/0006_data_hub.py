"""data hub: catalogue, dataset rows, imports, sharing, quality

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 01:19:47.491192
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_department_id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=20), nullable=False),
        sa.Column("update_frequency", sa.String(length=16), nullable=False),
        sa.Column("table_schema", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("register", sa.String(length=20), nullable=True),
        sa.Column("feeds_register", sa.String(length=20), nullable=True),
        sa.Column("register_priority", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("data_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_department_id"], ["departments.id"], name=op.f("fk_datasets_owner_department_id_departments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
        sa.UniqueConstraint("code", name=op.f("uq_datasets_code")),
    )
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_datasets_owner_department_id"), ["owner_department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_datasets_region_code"), ["region_code"], unique=False)

    op.create_table(
        "dataset_imports",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], name=op.f("fk_dataset_imports_dataset_id_datasets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_imports")),
    )
    with op.batch_alter_table("dataset_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_imports_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "dataset_quality",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("dataset_version", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("overall", sa.Double(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], name=op.f("fk_dataset_quality_dataset_id_datasets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_quality")),
    )
    with op.batch_alter_table("dataset_quality", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_quality_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "dataset_rows",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("row_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("row_key", sa.String(length=200), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], name=op.f("fk_dataset_rows_dataset_id_datasets")),
        sa.PrimaryKeyConstraint("dataset_id", "row_no", name=op.f("pk_dataset_rows")),
    )
    with op.batch_alter_table("dataset_rows", schema=None) as batch_op:
        batch_op.create_index("ix_dataset_rows_key", ["dataset_id", "row_key"], unique=False)

    op.create_table(
        "dataset_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("changed_by", sa.String(length=120), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], name=op.f("fk_dataset_versions_dataset_id_datasets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_versions")),
    )
    with op.batch_alter_table("dataset_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_versions_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "share_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("requester_department_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("clear_fields", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("wanted_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], name=op.f("fk_share_requests_dataset_id_datasets")),
        sa.ForeignKeyConstraint(
            ["requester_department_id"],
            ["departments.id"],
            name=op.f("fk_share_requests_requester_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_requests")),
    )
    with op.batch_alter_table("share_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_share_requests_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_share_requests_requester_department_id"), ["requester_department_id"], unique=False
        )

    op.create_table(
        "share_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("grantee_department_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("clear_fields", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("granted_by", sa.String(length=120), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=120), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["dataset_id"], ["datasets.id"], name=op.f("fk_share_grants_dataset_id_datasets")),
        sa.ForeignKeyConstraint(
            ["grantee_department_id"],
            ["departments.id"],
            name=op.f("fk_share_grants_grantee_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["share_requests.id"], name=op.f("fk_share_grants_request_id_share_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_grants")),
    )
    with op.batch_alter_table("share_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_share_grants_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_share_grants_grantee_department_id"), ["grantee_department_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_share_grants_request_id"), ["request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("share_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_grants_request_id"))
        batch_op.drop_index(batch_op.f("ix_share_grants_grantee_department_id"))
        batch_op.drop_index(batch_op.f("ix_share_grants_dataset_id"))

    op.drop_table("share_grants")
    with op.batch_alter_table("share_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_requests_requester_department_id"))
        batch_op.drop_index(batch_op.f("ix_share_requests_dataset_id"))

    op.drop_table("share_requests")
    with op.batch_alter_table("dataset_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_versions_dataset_id"))

    op.drop_table("dataset_versions")
    with op.batch_alter_table("dataset_rows", schema=None) as batch_op:
        batch_op.drop_index("ix_dataset_rows_key")

    op.drop_table("dataset_rows")
    with op.batch_alter_table("dataset_quality", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_quality_dataset_id"))

    op.drop_table("dataset_quality")
    with op.batch_alter_table("dataset_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_imports_dataset_id"))

    op.drop_table("dataset_imports")
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_datasets_region_code"))
        batch_op.drop_index(batch_op.f("ix_datasets_owner_department_id"))

    op.drop_table("datasets")
