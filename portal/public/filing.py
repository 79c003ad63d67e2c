"""The filing, step by step. Each page is a plain form; answers go into the encrypted draft."""

from __future__ import annotations

import uuid

from flask import (
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _

import crypto

from .. import drafts, intake
from ..config import Settings
from ..cookies import clear_token_cookie
from ..db import db_session
from ..drafts import DraftState
from . import blueprint
from . import draft_pages as pages
from .draft_pages import COOKIE
from .evidence import limit_problem, received_uploads, too_large_message
from .people import filed_for_people, people_summary
from .steps import (
    NOT_FOR_ORGANISATIONS,
    EmptyForm,
    next_step,
    previous_step,
    step_by_name,
    step_names,
)
from .summary import summarise


@blueprint.get("/report")
def report_start() -> tuple[str, int]:
    return pages.page(
        "public/start.html",
        form=EmptyForm(),
        step_number=1,
        acknowledge_days=pages.settings().acknowledge_within_days,
        max_mb=pages.settings().max_upload_bytes // (1024 * 1024),
    )


@blueprint.post("/report")
def report_begin() -> Response:
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    existing = pages.current_draft()
    token, state = existing if existing else drafts.start(db_session())
    response = redirect(url_for("public.report_step", step="who"))
    return pages.save(token, state, response)


@blueprint.route("/report/<step>", methods=["GET", "POST"])
def report_step(step: str) -> Response | tuple[str, int]:
    definition = step_by_name(step)
    if definition is None:
        abort(404)
    if step == "evidence":
        return _evidence()
    if step == "check":
        return _check()
    current = pages.current_draft()
    if current is None:
        return pages.expired()
    token, state = current
    names = step_names(state.answers)
    if step not in names:  # "who" and "contact" of an organisation's filing: its people step
        return redirect(url_for("public.report_step", step=names[0]))
    assert definition.form is not None
    if request.method == "GET":
        form = definition.form(data=state.answers)
    else:
        form = definition.form()
        if form.validate_on_submit():
            state.answers.update(
                {name: field.data for name, field in form._fields.items() if name != "csrf_token"}
            )
            if step not in state.visited:
                state.visited.append(step)
            target = "check" if request.args.get("return") == "check" else next_step(step, names)
            response = redirect(url_for("public.report_step", step=target))
            return pages.save(token, state, response)
    status = 400 if form.errors else 200
    return pages.page(
        "public/step.html",
        status,
        names,
        form=form,
        step=definition,
        step_number=pages.step_number(step, names),
        back=previous_step(step, names),
    )


def _evidence(error: str | None = None, status: int = 200) -> Response | tuple[str, int]:
    current = pages.current_draft()
    if current is None:
        return pages.expired()
    token, state = current
    settings = pages.settings()
    form = EmptyForm()
    if request.method == "POST" and error is None:
        if not form.validate_on_submit():
            abort(400)
        error = _add_files(state, settings)
        if error is None:
            if request.form.get("action") == "continue":
                if "evidence" not in state.visited:
                    state.visited.append("evidence")
                target = url_for("public.report_step", step="check")
            else:
                target = url_for("public.report_step", step="evidence")
            return pages.save(token, state, redirect(target))
        status = 400
    names = step_names(state.answers)
    scans = set(state.answers.get(intake.CONSENT_FILES) or [])
    return pages.page(
        "public/step_evidence.html",
        status,
        names,
        form=form,
        files=[staged for staged in state.files if str(staged.file_id) not in scans],
        error=error,
        step=step_by_name("evidence"),
        step_number=pages.step_number("evidence", names),
        back=previous_step("evidence", names),
        max_mb=settings.max_upload_bytes // (1024 * 1024),
        used_bytes=state.total_bytes,
        max_files=settings.max_files,
    )


def _add_files(state: DraftState, settings: Settings) -> str | None:
    """Stage the uploads of this request; a message if any limit is passed (nothing added)."""
    uploads = received_uploads()
    problem = limit_problem(settings, uploads, len(state.files), state.total_bytes)
    if problem is None:
        state.files.extend(drafts.stage(upload, name) for upload, name in uploads)
    return problem


def evidence_too_large() -> Response | tuple[str, int]:
    """An upload over the request limit: the evidence page again, with everything else kept."""
    request.method = "GET"  # show the page; do not try to read the body again
    return _evidence(error=too_large_message(pages.settings()), status=413)


@blueprint.post("/report/evidence/remove")
def report_remove_file() -> Response | tuple[str, int]:
    current = pages.current_draft()
    if current is None:
        return pages.expired()
    token, state = current
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        file_id = uuid.UUID(request.form.get("file_id", ""))
    except ValueError:
        abort(400)
    drafts.remove_file(current_app.extensions["portal_data_dir"], state, file_id)
    target = url_for("public.report_step", step="evidence")
    return pages.save(token, state, redirect(target))


def _check(busy: str | None = None, status: int = 200) -> Response | tuple[str, int]:
    current = pages.current_draft()
    if current is None:
        return pages.expired()
    _token, state = current
    names = step_names(state.answers)
    scans = set(state.answers.get(intake.CONSENT_FILES) or [])
    return pages.page(
        "public/check.html",
        status,
        names=names,
        busy=busy,
        form=EmptyForm(),
        sections=summarise(state.answers, skip=NOT_FOR_ORGANISATIONS if "people" in names else ()),
        people=people_summary(state.answers) if "people" in names else None,
        files=[staged for staged in state.files if str(staged.file_id) not in scans],
        consent_files=[staged for staged in state.files if str(staged.file_id) in scans],
        step=step_by_name("check"),
        step_number=pages.step_number("check", names),
        back=previous_step("check", names),
        missing_what=not state.answers.get("what_happened"),
    )


@blueprint.post("/report/send")
def report_send() -> Response | tuple[str, int]:
    current = pages.current_draft()
    if current is None:
        return pages.expired()
    token, state = current
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not state.answers.get("what_happened"):
        target = url_for("public.report_step", step="what")
        return redirect(target)
    db = db_session()
    ext = current_app.extensions
    submission = intake.submission_from_answers(
        db, state.answers, str(get_locale()), list(state.files)
    )
    if not all(ext["portal_filing_budget"].try_spend() for _ in range(submission.receipts or 1)):
        # Every receipt costs an Argon2id run: past the budget, the reporter sends again in a
        # moment, with everything kept (the draft is untouched).
        return _check(
            _("Many complaints are arriving right now. Wait a minute, then send yours again."),
            429,
        )
    filed = intake.file_complaint(
        db, ext["portal_keyring"], ext["portal_settings"], ext["portal_data_dir"], submission
    )
    drafts.discard(db, ext["portal_data_dir"], token, None)  # the files now belong to the case
    if submission.organisation_id is not None:
        response = make_response(filed_for_people(filed, submission))
        clear_token_cookie(response, COOKIE)
        return response
    response = make_response(_receipt_page(crypto.format_receipt(filed.receipt), filed))
    clear_token_cookie(response, COOKIE)
    return response


def _receipt_page(
    receipt: str, filed: intake.Filed | None = None, error: str | None = None
) -> tuple[str, int]:
    settings = pages.settings()
    return pages.page(
        "public/receipt.html",
        400 if error else 200,
        receipt=receipt,
        form=EmptyForm(),
        error=error,
        acknowledge_days=settings.acknowledge_within_days,
        acknowledge_by=filed.acknowledge_by.date() if filed else None,
    )


@blueprint.post("/report/finish")
def report_finish() -> Response | tuple[str, int]:
    form = EmptyForm()
    receipt_text = request.form.get("receipt", "")
    try:
        receipt = crypto.format_receipt(crypto.normalize_receipt(receipt_text))
    except crypto.InvalidReceiptError:
        abort(400)
    if not form.validate_on_submit() or request.form.get("written_down") != "yes":
        return _receipt_page(
            receipt, error=_("Tick the box to show you have written down your number.")
        )
    return pages.page("public/finished.html")


def is_evidence_upload() -> bool:
    """Whether this request is an upload to the evidence step (its 413 keeps the filing)."""
    return (
        request.endpoint == "public.report_step"
        and (request.view_args or {}).get("step") == "evidence"
    )


def step_again(message: str) -> tuple[str, int] | None:
    """The step just sent, with what was typed in it and ``message``, when its answers could not
    be saved (the database did not answer): nothing typed is lost. None for other requests."""
    if request.method != "POST" or request.endpoint != "public.report_step":
        return None
    definition = step_by_name(str((request.view_args or {}).get("step", "")))
    if definition is None or definition.form is None:
        return None
    form = definition.form(meta={"csrf": False})  # the posted values, shown again as typed
    return pages.page(
        "public/step.html",
        503,
        form=form,
        step=definition,
        step_number=pages.step_number(definition.name),
        back=previous_step(definition.name),
        unavailable=message,
    )
