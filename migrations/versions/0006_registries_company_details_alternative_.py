"""registries: company details, alternative procedures, company accounts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 19:31:43.925213
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Company accounts made before companies were tied to accounts belong to this one until an admin
# moves them (nothing is referred to it, as it is not a member).
PLACEHOLDER = "Company not recorded"


def upgrade() -> None:
    op.create_table(
        "procedures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("countries", sa.String(length=400), nullable=False),
        sa.Column("languages", sa.String(length=200), nullable=False),
        sa.Column("accepts_anonymous", sa.String(length=16), nullable=False),
        sa.Column("identity_required", sa.Boolean(), nullable=False),
        sa.Column("time_limit", sa.Text(), nullable=False),
        sa.Column("indicative_timeline", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(length=500), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("last_verified", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "accepts_anonymous IN ('yes', 'confidential', 'no')",
            name=op.f("ck_procedures_accepts_anonymous"),
        ),
        sa.CheckConstraint(
            "kind IN ('ncp', 'nhri', 'dfi', 'legal_aid', 'un_procedure', 'client_mechanism',"
            " 'good_offices')",
            name=op.f("ck_procedures_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procedures")),
        sa.UniqueConstraint("key", name=op.f("uq_procedures_key")),
    )
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("membership", sa.String(length=16), nullable=False, server_default="member")
        )
        batch_op.add_column(
            sa.Column("countries", sa.String(length=400), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("grievance_contact", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("response_days", sa.Integer(), nullable=True))
    op.execute("UPDATE companies SET membership = 'not_member' WHERE NOT is_member")
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.alter_column("membership", server_default=None)
        batch_op.alter_column("countries", server_default=None)
        batch_op.alter_column("grievance_contact", server_default=None)
        batch_op.drop_column("is_member")
        batch_op.create_check_constraint(
            "membership",
            "membership IN ('member', 'transitional', 'suspended', 'former', 'not_member')",
        )

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("company_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_accounts_company_id"), ["company_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_accounts_company_id_companies"), "companies", ["company_id"], ["id"]
        )
    bind = op.get_bind()
    orphans = bind.execute(sa.text("SELECT count(*) FROM accounts WHERE role = 'company'"))
    if orphans.scalar_one():
        placeholder = uuid.uuid4()
        companies = sa.table(
            "companies",
            sa.column("id", sa.Uuid()),
            sa.column("name", sa.String()),
            sa.column("membership", sa.String()),
            sa.column("countries", sa.String()),
            sa.column("grievance_contact", sa.String()),
        )
        op.execute(
            companies.insert().values(
                id=placeholder,
                name=PLACEHOLDER,
                membership="not_member",
                countries="",
                grievance_contact="",
            )
        )
        accounts = sa.table("accounts", sa.column("role", sa.String()), sa.column("company_id"))
        op.execute(
            accounts.update().where(accounts.c.role == "company").values(company_id=placeholder)
        )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_check_constraint(
            "company_role", "(role = 'company') = (company_id IS NOT NULL)"
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_accounts_company_role"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_accounts_company_id_companies"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_accounts_company_id"))
        batch_op.drop_column("company_id")

    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_member", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.execute("UPDATE companies SET is_member = (membership <> 'not_member')")
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.alter_column("is_member", server_default=None)
        batch_op.drop_constraint(batch_op.f("ck_companies_membership"), type_="check")
        batch_op.drop_column("response_days")
        batch_op.drop_column("grievance_contact")
        batch_op.drop_column("countries")
        batch_op.drop_column("membership")

    op.drop_table("procedures")
