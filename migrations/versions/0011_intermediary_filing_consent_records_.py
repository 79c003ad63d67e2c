"""intermediary filing: consent records, group receipts, read marks

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 22:03:19.523935

Cases filed by an organisation name it and say whether everyone concerned agreed to public
reports; records gain the kind ``consent`` and the author ``intermediary``. A case may now have
several receipts (one per person of a group, or a new one at hand-over), so the wraps made at a
key rotation and the follow-up sessions say which receipt they belong to: existing ones are
filled from the case's one receipt (sessions, which last minutes, are ended).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS_BEFORE = (
    "'answers', 'identity', 'file_key', 'message', 'note', 'package', 'referral_answer', "
    "'remedy', 'commitment', 'feedback', 'progress'"
)
KINDS_AFTER = KINDS_BEFORE + ", 'consent'"
AUTHORS_BEFORE = "'reporter', 'staff', 'company', 'system'"
AUTHORS_AFTER = AUTHORS_BEFORE + ", 'intermediary'"


def upgrade() -> None:
    op.create_table(
        "read_marks",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("seen_sequence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_read_marks_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_read_marks_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("account_id", "case_id", name=op.f("pk_read_marks")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column("in_public_reports", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.create_index(
            batch_op.f("ix_cases_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_cases_organisation_id_organisations"),
            "organisations",
            ["organisation_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column("in_public_reports", server_default=None)

    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_records_kind"), type_="check")
        batch_op.create_check_constraint("kind", f"kind IN ({KINDS_AFTER})")
        batch_op.drop_constraint(batch_op.f("ck_records_author_role"), type_="check")
        batch_op.create_check_constraint("author_role", f"author_role IN ({AUTHORS_AFTER})")

    with op.batch_alter_table("receipt_successors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lookup_token", sa.LargeBinary(length=32), nullable=True))
    op.execute(
        "UPDATE receipt_successors SET lookup_token = (SELECT receipt_locks.lookup_token "
        "FROM receipt_locks WHERE receipt_locks.case_id = receipt_successors.case_id)"
    )
    op.execute("DELETE FROM receipt_successors WHERE lookup_token IS NULL")
    with op.batch_alter_table("receipt_successors", schema=None) as batch_op:
        batch_op.alter_column("lookup_token", nullable=False)
        batch_op.create_index(
            batch_op.f("ix_receipt_successors_lookup_token"), ["lookup_token"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_receipt_successors_lookup_token_receipt_locks"),
            "receipt_locks",
            ["lookup_token"],
            ["lookup_token"],
            ondelete="CASCADE",
        )

    op.execute("DELETE FROM reporter_sessions")
    with op.batch_alter_table("reporter_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lookup_token", sa.LargeBinary(length=32), nullable=False))
        batch_op.create_foreign_key(
            batch_op.f("fk_reporter_sessions_lookup_token_receipt_locks"),
            "receipt_locks",
            ["lookup_token"],
            ["lookup_token"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    op.execute("DELETE FROM reporter_sessions")
    with op.batch_alter_table("reporter_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_reporter_sessions_lookup_token_receipt_locks"), type_="foreignkey"
        )
        batch_op.drop_column("lookup_token")

    with op.batch_alter_table("receipt_successors", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_receipt_successors_lookup_token_receipt_locks"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_receipt_successors_lookup_token"))
        batch_op.drop_column("lookup_token")

    op.execute("DELETE FROM records WHERE kind = 'consent' OR author_role = 'intermediary'")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_records_author_role"), type_="check")
        batch_op.create_check_constraint("author_role", f"author_role IN ({AUTHORS_BEFORE})")
        batch_op.drop_constraint(batch_op.f("ck_records_kind"), type_="check")
        batch_op.create_check_constraint("kind", f"kind IN ({KINDS_BEFORE})")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_cases_organisation_id_organisations"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_cases_organisation_id"))
        batch_op.drop_column("in_public_reports")
        batch_op.drop_column("organisation_id")

    op.drop_table("read_marks")
