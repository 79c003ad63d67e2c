"""Admins keep the registries: member companies and alternative procedures, one entry at a time
on these pages, or all at once as a CSV file downloaded, edited in a spreadsheet and imported
back (all or nothing, see ``portal.registry``). Every change is audited, by id, never by what
was typed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from portal import registry
from portal.db import db_session
from portal.models import AuditEvent, Company, Procedure, ProcedureKind, today
from portal.uploads import EncryptingUpload

from . import blueprint
from .forms import ActionForm, SignOutForm
from .registry_forms import (
    ANONYMITY_LABELS,
    KIND_LABELS,
    MEMBERSHIP_LABELS,
    CompanyForm,
    ProcedureForm,
    RegistryImportForm,
)
from .roles import ADMIN_ROLES
from .session import current_staff, staff_required

Page = Response | str | tuple[str, int]
LineProblem = tuple[int | None, str]  # (line of the file, or None for the whole file; text)
KIND_ORDER = {kind.value: number for number, kind in enumerate(ProcedureKind)}


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(
        template,
        who=current_staff(),
        sign_out=SignOutForm(),
        membership_label=lambda value: MEMBERSHIP_LABELS.get(value, value),
        kind_label=lambda value: KIND_LABELS.get(value, value),
        anonymity_label=lambda value: ANONYMITY_LABELS.get(value, value),
        **context,
    ), status


def _audit(db: Session, action: str, detail: str) -> None:
    who = current_staff()
    assert who is not None
    db.add(AuditEvent(action=action, actor_account_id=who.account.id, detail=detail))


def _csv(text: str, filename: str) -> Response:
    response = make_response(text)
    response.mimetype = "text/csv"  # with "; charset=utf-8", as for any text type
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    return response


def _import_notice() -> str | None:
    added, updated = request.args.get("added", ""), request.args.get("updated", "")
    if not (added.isdigit() and updated.isdigit()):
        return None
    return str(
        _(
            "The file was imported: %(added)s added, %(updated)s updated.",
            added=int(added),
            updated=int(updated),
        )
    )


def _uploaded_text(form: RegistryImportForm) -> tuple[str | None, list[LineProblem]]:
    """The uploaded file as text, or why it cannot be read."""
    stream = form.csv_file.data.stream
    if isinstance(stream, EncryptingUpload):  # every upload is encrypted as it arrives
        data = stream.plaintext(registry.MAX_BYTES)
    else:
        data = stream.read(registry.MAX_BYTES + 1)
    if data is None or len(data) > registry.MAX_BYTES:
        return None, [(None, _("The file is too large."))]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        return None, [
            (None, _("The file is not UTF-8 text. Save it as CSV (UTF-8) and import it again."))
        ]


def _import(
    which: str, importer: Callable[[Session, str], registry.Imported], list_endpoint: str
) -> Page:
    """Import the uploaded CSV into one registry: back to its list with the counts, or a 400
    page naming each problem (and nothing changed)."""
    form = RegistryImportForm()
    problems: list[LineProblem] = []
    if form.validate_on_submit():
        text, problems = _uploaded_text(form)
        if text is not None:
            db = db_session()
            try:
                result = importer(db, text)
            except registry.ImportRefused as refused:
                db.rollback()
                problems = [(problem.line, problem.text) for problem in refused.problems]
            else:
                _audit(db, "registry.imported", which)
                db.commit()
                target = url_for(list_endpoint, added=result.added, updated=result.updated)
                return redirect(target + "#import")
    return _page(
        "caseworker/registry_import_refused.html",
        400,
        form=form,
        problems=problems,
        which=which,
        list_url=url_for(list_endpoint),
        import_url=url_for(request.endpoint or list_endpoint),
    )


# --- companies --------------------------------------------------------------------------------


def _companies_page(form: CompanyForm) -> tuple[str, int]:
    db = db_session()
    companies = sorted(db.scalars(select(Company)), key=lambda company: company.name.casefold())
    saved = request.args.get("saved")
    return _page(
        "caseworker/companies_admin.html",
        companies=companies,
        officers=registry.officer_counts(db),
        saved=next((c for c in companies if str(c.id) == saved), None),
        imported=_import_notice(),
        form=form,
        import_form=RegistryImportForm(formdata=None),
    )


@blueprint.get("/caseworker/admin/companies")
@staff_required(*ADMIN_ROLES)
def companies_admin() -> Page:
    return _companies_page(CompanyForm(formdata=None))


def _save_company(form: CompanyForm, company: Company | None) -> Page:
    db = db_session()
    if form.validate_on_submit():
        company = registry.save_company(db, form.fields(), company)
        _audit(db, "registry.company_saved", str(company.id))
        db.commit()
        target = url_for("caseworker.companies_admin", saved=str(company.id))
        return redirect(f"{target}#company-{company.id}")
    return _page(
        "caseworker/company_edit.html",
        400 if form.is_submitted() else 200,
        form=form,
        company=company,
    )


@blueprint.post("/caseworker/admin/companies/new")
@staff_required(*ADMIN_ROLES)
def company_new() -> Page:
    return _save_company(CompanyForm(), None)


@blueprint.route("/caseworker/admin/companies/<uuid:company_id>", methods=["GET", "POST"])
@staff_required(*ADMIN_ROLES)
def company_edit(company_id: uuid.UUID) -> Page:
    company = db_session().get(Company, company_id)
    if company is None:
        abort(404)
    return _save_company(CompanyForm(obj=company, company_id=company.id), company)


@blueprint.get("/caseworker/admin/companies.csv")
@staff_required(*ADMIN_ROLES)
def companies_csv() -> Response:
    return _csv(registry.export_companies(db_session()), "companies.csv")


@blueprint.post("/caseworker/admin/companies/import")
@staff_required(*ADMIN_ROLES)
def companies_import() -> Page:
    return _import("companies", registry.import_companies, "caseworker.companies_admin")


# --- procedures -------------------------------------------------------------------------------


def _procedures_page(form: ProcedureForm) -> tuple[str, int]:
    db = db_session()
    procedures = sorted(
        db.scalars(select(Procedure)),
        key=lambda p: (KIND_ORDER.get(p.kind, len(KIND_ORDER)), p.name.casefold()),
    )
    saved = request.args.get("saved")
    verified = request.args.get("verified")
    return _page(
        "caseworker/procedures_admin.html",
        procedures=procedures,
        saved=next((p for p in procedures if str(p.id) == saved), None),
        verified=next((p for p in procedures if str(p.id) == verified), None),
        imported=_import_notice(),
        form=form,
        import_form=RegistryImportForm(formdata=None),
        action=ActionForm(),
    )


@blueprint.get("/caseworker/admin/procedures")
@staff_required(*ADMIN_ROLES)
def procedures_admin() -> Page:
    return _procedures_page(ProcedureForm(formdata=None))


def _save_procedure(form: ProcedureForm, procedure: Procedure | None) -> Page:
    db = db_session()
    if form.validate_on_submit():
        procedure = registry.save_procedure(db, form.fields(), procedure)
        _audit(db, "registry.procedure_saved", str(procedure.id))
        db.commit()
        target = url_for("caseworker.procedures_admin", saved=str(procedure.id))
        return redirect(f"{target}#procedure-{procedure.id}")
    return _page(
        "caseworker/procedure_edit.html",
        400 if form.is_submitted() else 200,
        form=form,
        procedure=procedure,
        action=ActionForm(),
    )


@blueprint.post("/caseworker/admin/procedures/new")
@staff_required(*ADMIN_ROLES)
def procedure_new() -> Page:
    return _save_procedure(ProcedureForm(), None)


@blueprint.route("/caseworker/admin/procedures/<uuid:procedure_id>", methods=["GET", "POST"])
@staff_required(*ADMIN_ROLES)
def procedure_edit(procedure_id: uuid.UUID) -> Page:
    procedure = db_session().get(Procedure, procedure_id)
    if procedure is None:
        abort(404)
    return _save_procedure(ProcedureForm(obj=procedure, procedure_id=procedure.id), procedure)


@blueprint.post("/caseworker/admin/procedures/<uuid:procedure_id>/verified")
@staff_required(*ADMIN_ROLES)
def procedure_verified(procedure_id: uuid.UUID) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    db = db_session()
    procedure = db.get(Procedure, procedure_id)
    if procedure is None:
        abort(404)
    registry.mark_verified(db, procedure, today())
    _audit(db, "registry.procedure_verified", str(procedure.id))
    db.commit()
    target = url_for("caseworker.procedures_admin", verified=str(procedure.id))
    return redirect(f"{target}#procedure-{procedure.id}")


@blueprint.get("/caseworker/admin/procedures.csv")
@staff_required(*ADMIN_ROLES)
def procedures_csv() -> Response:
    return _csv(registry.export_procedures(db_session()), "procedures.csv")


@blueprint.post("/caseworker/admin/procedures/import")
@staff_required(*ADMIN_ROLES)
def procedures_import() -> Page:
    return _import("procedures", registry.import_procedures, "caseworker.procedures_admin")
