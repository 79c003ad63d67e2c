"""Following up with the receipt: status, messages, a reply, more evidence, withdrawal."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

import crypto

from .. import drafts, followup, referrals, remedies
from ..cookies import clear_token_cookie, read_token_cookie, set_token_cookie
from ..db import db_session
from ..models import (
    Answer3,
    Channel,
    CommitmentStatus,
    Recipient,
    RemedyCategory,
    Scope,
    today,
)
from ..stages import REPORTER_WORDING, Stage
from . import blueprint
from .evidence import limit_problem, received_uploads, too_large_message
from .steps import EmptyForm

COOKIE = "followup"


class ReceiptForm(FlaskForm):
    receipt = StringField(
        _l("Your receipt number"),
        description=_l("The 20 digits you were given when you sent your complaint."),
        validators=[DataRequired(message=_l("Enter your receipt number."))],
    )


class ReplyForm(FlaskForm):
    message = TextAreaField(
        _l("Write to us"),
        description=_l("Write in any language."),
        validators=[DataRequired(message=_l("Write your message first.")), Length(max=50_000)],
    )


def _ext(name: str):  # type: ignore[no-untyped-def]
    return current_app.extensions[f"portal_{name}"]


def _client() -> str:
    return request.remote_addr or "unknown"


@blueprint.route("/follow-up", methods=["GET", "POST"])
def follow_up() -> Response | tuple[str, int]:
    form = ReceiptForm()
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            receipt = crypto.normalize_receipt(form.receipt.data or "")
        except crypto.InvalidReceiptError:
            # A typo is caught by the check digit, before any key derivation.
            form.receipt.errors = [
                _("This is not a receipt number. Check each digit and try again.")
            ]
        else:
            if not (
                _ext("follow_up_clients").try_spend(_client())
                and _ext("follow_up_budget").try_spend()
            ):
                form.receipt.errors = [_("Too many tries. Wait a minute and try again.")]
                return render_template("public/follow_up.html", form=form), 429
            token = followup.open_with_receipt(
                db_session(), _ext("keyring"), _ext("settings"), receipt
            )
            if token is not None:
                response = redirect(url_for("public.follow_up_case"))
                set_token_cookie(response, COOKIE, token, None)
                return response
            form.receipt.errors = [_("We found no complaint with this receipt number.")]
    return render_template("public/follow_up.html", form=form), status


def _view() -> followup.ReporterView | None:
    token = read_token_cookie(COOKIE)
    if token is None:
        return None
    try:
        return followup.resume(db_session(), _ext("keyring"), _ext("settings"), token)
    except crypto.CryptoError:
        return None


def _closed() -> Response:
    """A closed case takes nothing more: back to its page, which says it is closed."""
    return redirect(url_for("public.follow_up_case"), code=303)


def _ended() -> Response:
    response = redirect(url_for("public.follow_up", ended=1))
    clear_token_cookie(response, COOKIE)
    return response


@blueprint.get("/follow-up/case")
def follow_up_case() -> Response | str:
    view = _view()
    if view is None:
        return _ended()
    return _case_page(view)


def _case_page(
    view: followup.ReporterView,
    reply: ReplyForm | None = None,
    error: str | None = None,
    status: int = 200,
):  # type: ignore[no-untyped-def]
    settings = _ext("settings")
    return render_template(
        "public/case.html",
        case=view.case,
        stage_text=REPORTER_WORDING[Stage(view.case.stage)],
        closed=view.case.stage == Stage.CLOSED.value,
        messages=followup.conversation(db_session(), view),
        reply=reply or ReplyForm(),
        form=EmptyForm(),
        error=error,
        max_mb=settings.max_upload_bytes // (1024 * 1024),
        consent_questions=[
            (Recipient(request.recipient), CONSENT_QUESTIONS[Recipient(request.recipient)])
            for request in referrals.open_consent_requests(db_session(), view.case.id)
        ],
        consent_choices=_consent_choices(view),
        remedies=remedies.for_reporter(db_session(), view),
        feedback_round=remedies.feedback_round(
            db_session(), view.case, today(), settings.feedback_after_days
        ),
        remedy_words=REMEDY_WORDS,
        commitment_words=COMMITMENT_WORDS,
        answer_words=ANSWER_WORDS,
    ), status


CONSENT_QUESTIONS = {
    Recipient.COMPANY: _l(
        "We can send your complaint to the company's own complaints service, so that it can "
        "answer and put things right. What may we send to the company?"
    ),
    Recipient.BODIES: _l(
        "We can send your complaint to another complaint body, for example a national human "
        "rights institution, if that can help. What may we send to such a body?"
    ),
}


def _consent_choices(view: followup.ReporterView) -> list[tuple[str, str]]:
    choices = [
        (Scope.NOTHING.value, str(_l("Nothing. Do not send my complaint."))),
        (Scope.ACCOUNT.value, str(_l("My complaint, without my name or how to reach me."))),
    ]
    if view.case.channel == Channel.CONFIDENTIAL.value:
        choices.append(
            (Scope.IDENTITY.value, str(_l("My complaint, with my name and how to reach me.")))
        )
    return choices


@blueprint.post("/follow-up/consent")
def follow_up_consent() -> Response | tuple[str, int]:
    """The reporter says what may go to a kind of recipient; waiting referrals follow it."""
    view = _view()
    if view is None:
        return _ended()
    if followup.is_closed(view.case):
        return _closed()
    if not EmptyForm().validate_on_submit():
        abort(400)
    db = db_session()
    asked = {r.recipient for r in referrals.open_consent_requests(db, view.case.id)}
    recipient = request.form.get("recipient", "")
    scope = request.form.get("scope", "")
    if recipient not in asked:
        return redirect(url_for("public.follow_up_case"), code=303)
    if scope not in {value for value, _label in _consent_choices(view)}:
        return _case_page(view, error=_("Choose one answer."), status=400)
    referrals.answer_consent(db, view.case, Recipient(recipient), Scope(scope))
    db.commit()
    return redirect(url_for("public.follow_up_case", consented=1))


REMEDY_WORDS = {
    RemedyCategory.RESTITUTION: _l("Giving back what was lost"),
    RemedyCategory.COMPENSATION: _l("Payment for the harm"),
    RemedyCategory.REHABILITATION: _l("Care and support (medical, psychological, legal, social)"),
    RemedyCategory.SATISFACTION: _l("Recognition, an apology or sanctions"),
    RemedyCategory.NON_REPETITION: _l("Changes so that it does not happen again"),
}
COMMITMENT_WORDS = {
    CommitmentStatus.AGREED: _l("Agreed, not started yet"),
    CommitmentStatus.IN_PROGRESS: _l("Being done"),
    CommitmentStatus.IMPLEMENTED: _l("Done, waiting to be checked"),
    CommitmentStatus.VERIFIED: _l("Done and checked"),
    CommitmentStatus.NOT_IMPLEMENTED: _l("Not done"),
}
ANSWER_WORDS = {Answer3.YES: _l("Yes"), Answer3.PARTLY: _l("Partly"), Answer3.NO: _l("No")}


@blueprint.post("/follow-up/feedback")
def follow_up_feedback() -> Response | tuple[str, int]:
    """Whether each agreed remedy happened and whether the reporter is satisfied (closed cases
    too: that is when they are asked)."""
    view = _view()
    if view is None:
        return _ended()
    if not EmptyForm().validate_on_submit():
        abort(400)
    db = db_session()
    round_ = remedies.feedback_round(db, view.case, today(), _ext("settings").feedback_after_days)
    if round_ is None:
        return redirect(url_for("public.follow_up_case"), code=303)
    answers = {}
    for shown in remedies.for_reporter(db, view):
        for item in shown.commitments:
            key = item.commitment.id
            happened = request.form.get(f"happened-{key}", "")
            satisfied = request.form.get(f"satisfied-{key}", "")
            if happened not in set(Answer3) or satisfied not in set(Answer3):
                return _case_page(
                    view, error=_("Answer both questions for each remedy."), status=400
                )
            answers[key] = (Answer3(happened), Answer3(satisfied))
    comment = request.form.get("comment", "")[:50_000]
    remedies.record_feedback(db, _ext("keyring"), view, round_, answers, comment)
    db.commit()
    return redirect(url_for("public.follow_up_case", answered=1))


@blueprint.post("/follow-up/reply")
def follow_up_reply() -> Response | tuple[str, int]:
    view = _view()
    if view is None:
        return _ended()
    if followup.is_closed(view.case):
        return _closed()
    form = ReplyForm()
    if not form.validate_on_submit():
        return _case_page(view, reply=form, status=400)
    followup.reply(db_session(), _ext("keyring"), view, form.message.data or "")
    return redirect(url_for("public.follow_up_case", sent=1))


@blueprint.post("/follow-up/evidence")
def follow_up_evidence() -> Response | tuple[str, int]:
    view = _view()
    if view is None:
        return _ended()
    if followup.is_closed(view.case):
        return _closed()
    if not EmptyForm().validate_on_submit():
        abort(400)
    staged = received_uploads()
    if not staged:
        return _case_page(view, error=_("Choose a file first."), status=400)
    problem = limit_problem(_ext("settings"), staged)
    if problem:
        return _case_page(view, error=problem, status=400)
    files = [drafts.stage(stream, name) for stream, name in staged]
    followup.add_evidence(db_session(), _ext("keyring"), _ext("data_dir"), view, files)
    return redirect(url_for("public.follow_up_case", added=len(files)))


@blueprint.route("/follow-up/withdraw", methods=["GET", "POST"])
def follow_up_withdraw() -> Response | tuple[str, int] | str:
    view = _view()
    if view is None:
        return _ended()
    if followup.is_closed(view.case):
        return _closed()
    form = EmptyForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        followup.withdraw(db_session(), view, erase=request.form.get("erase") == "1")
        return redirect(url_for("public.follow_up_case", withdrawn=1))
    return render_template("public/withdraw.html", form=form)


@blueprint.post("/follow-up/leave")
def follow_up_leave() -> Response:
    view = _view()
    if EmptyForm().validate_on_submit() and view is not None:
        followup.leave(db_session(), view.session_id)
    response = make_response(redirect(url_for("public.home")))
    clear_token_cookie(response, COOKIE)
    return response


def evidence_too_large() -> Response | tuple[str, int]:
    """More evidence than the request limit: the case page again, with a message."""
    request.method = "GET"  # do not read the body again
    view = _view()
    if view is None:
        return _ended()
    return _case_page(view, error=too_large_message(_ext("settings")), status=413)
