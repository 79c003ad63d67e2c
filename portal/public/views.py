"""Public pages. Thin: parse a form, call one workflow function, render."""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _

import crypto

from .. import followup, intake
from ..db import db_session
from ..stages import REPORTER_WORDING
from ..uploads import EncryptingUpload
from . import blueprint
from .forms import FollowUpForm, ReportForm


def _extensions() -> tuple:  # type: ignore[type-arg]
    ext = current_app.extensions
    return ext["portal_settings"], ext["portal_keyring"], ext["portal_data_dir"]


@blueprint.get("/")
def home() -> str:
    return render_template("public/home.html")


@blueprint.route("/report", methods=["GET", "POST"])
def report() -> str | tuple[str, int]:
    settings, keyring, data_dir = _extensions()
    form = ReportForm()
    max_mb = settings.max_file_bytes // (1024 * 1024)
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("public/report.html", form=form, max_mb=max_mb), status
    attachments = []
    for storage in form.attachments.data or []:
        stream = getattr(storage, "stream", None)
        if not isinstance(stream, EncryptingUpload) or (not storage.filename and not stream.size):
            continue  # an empty file input
        if stream.size > settings.max_file_bytes:
            form.attachments.errors = [_("A file is too large.")]
            return render_template("public/report.html", form=form, max_mb=max_mb), 400
        # A part with content but no usable name is kept, never silently dropped.
        name = storage.filename or _("attachment")
        attachments.append(intake.Attachment(upload=stream, filename=name))
    if len(attachments) > settings.max_files:
        form.attachments.errors = [
            _("You can add up to %(count)d files.", count=settings.max_files)
        ]
        return render_template("public/report.html", form=form, max_mb=max_mb), 400
    receipt = intake.file_complaint(
        db_session(),
        keyring,
        settings,
        data_dir,
        intake.Answers(
            what_happened=form.what_happened.data or "",
            where=form.where.data or "",
            when=form.when.data or "",
            company=form.company.data or "",
        ),
        intake.ClearAnswers(
            language=str(get_locale() or settings.default_language),
            country=form.country.data or None,
        ),
        attachments,
    )
    return render_template("public/receipt.html", receipt=crypto.format_receipt(receipt))


@blueprint.route("/follow-up", methods=["GET", "POST"])
def follow_up() -> str | tuple[str, int]:
    _settings, keyring, _data_dir = _extensions()
    form = FollowUpForm()
    status_code = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            receipt = crypto.normalize_receipt(form.receipt.data or "")
        except crypto.InvalidReceiptError:
            # A typo is caught by the check digit, before any key derivation.
            form.receipt.errors = [
                _("This is not a receipt number. Check each digit and try again.")
            ]
        else:
            if not current_app.extensions["portal_follow_up_budget"].try_spend():
                form.receipt.errors = [
                    _("Too many people are using this website now. Wait a minute and try again.")
                ]
                return render_template("public/follow_up.html", form=form), 429
            status = followup.case_status(db_session(), keyring, receipt)
            if status is not None:
                return render_template(
                    "public/status.html", status=status, reporter_wording=REPORTER_WORDING
                )
            form.receipt.errors = [_("We found no complaint with this receipt number.")]
    return render_template("public/follow_up.html", form=form), status_code
