"""stage tallies: cases per account and stage, for the case list

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stage_tallies",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_stage_tallies_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "stage", name=op.f("pk_stage_tallies")),
    )
    # Count what is already there: live case grants per account and stage.
    op.execute(
        """
        INSERT INTO stage_tallies (account_id, stage, cases)
        SELECT grants.account_id, cases.stage, COUNT(*)
        FROM grants
        JOIN compartments ON compartments.id = grants.compartment_id
        JOIN cases ON cases.id = compartments.case_id
        WHERE compartments.kind = 'case'
          AND compartments.retired_at IS NULL
          AND grants.account_id IS NOT NULL
        GROUP BY grants.account_id, cases.stage
        """
    )


def downgrade() -> None:
    op.drop_table("stage_tallies")
