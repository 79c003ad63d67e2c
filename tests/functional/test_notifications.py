"""Staff notifications through a real SMTP server on loopback: who hears, and that they hear
nothing but that there is activity and where to sign in."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from portal import Settings, create_app, notify
from portal.models import Account, AuditEvent, Case, Company, Referral, Role, today
from portal.stages import Stage
from tests.conftest import Portal, csrf_token
from tests.support import smtp
from tests.support.filing import DEFAULT_ANSWERS, file_complaint
from tests.support.server import free_port
from tests.support.smtp import Received, SmtpSink

PUBLIC_URL = "https://portal.example.org"
SUBJECT = "Activity in the complaints portal"
STORY = "Guards of Acme beat Amani Kambale at the north gate on 3 March"
COMPANY = "Acme Guards"
COUNTRY = DEFAULT_ANSWERS["what"]["country"]
MESSAGE = "They came back last night and threatened my brother"

INTAKE = ("ana@example.org", "ben@example.org")  # intake caseworkers, told at once
DIGEST = "dee@example.org"  # intake caseworker on the daily digest
OUTSIDER = "nick@example.org"  # caseworker outside the intake team
SUPERVISOR = "sue@example.org"  # supervisor outside the intake team
EVERYONE = (*INTAKE, DIGEST, OUTSIDER, SUPERVISOR)

smtp_sink = smtp.smtp_sink  # the fixture: a real SMTP server on loopback


def _app(portal: Portal, **changes: object) -> Flask:
    settings = dataclasses.replace(portal.settings, public_url=PUBLIC_URL + "/", **changes)
    return create_app(settings)


@pytest.fixture
def mailing(portal: Portal, smtp_sink: SmtpSink) -> Iterator[Flask]:
    """The portal, sending its mail to the loopback SMTP server, with a staff of five."""
    for email in INTAKE:
        portal.account(email)
    portal.account(DIGEST)
    portal.account(OUTSIDER, intake=False)
    portal.account(SUPERVISOR, Role.SUPERVISOR, intake=False)
    with portal.db as db:
        db.execute(update(Account).where(Account.email == DIGEST).values(notify_digest=True))
        db.commit()
    app = _app(portal, smtp_port=smtp_sink.port)
    yield app
    app.extensions["portal_db"].dispose()


def file_one(portal: Portal, client: FlaskClient, lang: str | None = None) -> tuple[str, Case]:
    """File a complaint through the public form; its receipt and its case."""
    with portal.db as db:
        before = set(db.scalars(select(Case.id)))
    answers = {"what": {"company_other": COMPANY}}
    receipt = file_complaint(client, text=STORY, answers=answers, lang=lang)
    with portal.db as db:
        (case,) = [case for case in db.scalars(select(Case)) if case.id not in before]
    return receipt, case


def reply_as_reporter(app: Flask, receipt: str, text: str = MESSAGE) -> None:
    """Open the case with the receipt and write to the caseworkers, as a reporter would."""
    client = app.test_client()
    token = csrf_token(client, "/follow-up")
    response = client.post("/follow-up", data={"csrf_token": token, "receipt": receipt})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    token = csrf_token(client, "/follow-up/case")
    response = client.post("/follow-up/reply", data={"csrf_token": token, "message": text})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def set_case(portal: Portal, case_id: uuid.UUID, **values: object) -> None:
    with portal.db as db:
        db.execute(update(Case).where(Case.id == case_id).values(**values))
        db.commit()


def account_id(portal: Portal, email: str) -> uuid.UUID:
    with portal.db as db:
        found = db.scalar(select(Account.id).where(Account.email == email))
    assert found is not None
    return found


def assert_says_nothing(message: Received, case: Case, receipt: str) -> None:
    """Subject and body say only that there is activity and where to sign in."""
    assert message.subject == SUBJECT
    assert f"{PUBLIC_URL}/sign-in" in message.body
    assert message.email.get_content_type() == "text/plain"
    assert not message.email.is_multipart()
    assert message.email["Content-Transfer-Encoding"] == "7bit"  # the raw text is the text
    for shown in (message.subject, message.body):
        assert COUNTRY not in shown
        assert "Congo" not in shown
    raw = message.raw.decode("utf-8", errors="replace")
    secrets = [case.reference, STORY, "Amani", COMPANY, "Acme", MESSAGE, str(case.id)]
    secrets += [receipt, receipt.replace(" ", ""), case.id.hex]
    for secret in secrets:
        assert secret not in raw, secret


def test_a_new_complaint_tells_each_intake_member_once_and_nothing_more(
    portal: Portal, mailing: Flask, smtp_sink: SmtpSink
) -> None:
    receipt, case = file_one(portal, mailing.test_client())

    messages = smtp_sink.messages
    assert sorted(message.to for message in messages) == sorted(INTAKE)
    for message in messages:
        assert_says_nothing(message, case, receipt)
        assert "A new complaint has arrived." in message.body
        assert message.mail_from == portal.settings.smtp_sender
        assert message.email["To"] == message.to  # one recipient a mail: nobody sees the team


def test_staff_are_told_in_english_whatever_the_reporter_s_language(
    portal: Portal, mailing: Flask, smtp_sink: SmtpSink
) -> None:
    receipt, case = file_one(portal, mailing.test_client(), lang="fr")

    assert sorted(smtp_sink.recipients()) == sorted(INTAKE)
    for message in smtp_sink.messages:
        assert_says_nothing(message, case, receipt)
        assert "A new complaint has arrived." in message.body


def test_a_reporter_message_tells_every_caseworker_holding_the_case(
    portal: Portal, mailing: Flask, smtp_sink: SmtpSink
) -> None:
    receipt, case = file_one(portal, mailing.test_client())
    smtp_sink.clear()

    reply_as_reporter(mailing, receipt)

    # The intake team holds the case; the digest account waits for its digest; the outsider
    # and the supervisor hold no grant.
    assert smtp_sink.recipients() == sorted(INTAKE)
    for message in smtp_sink.messages:
        assert_says_nothing(message, case, receipt)
        assert "A reporter has written." in message.body


def test_a_reporter_message_on_an_assigned_case_tells_only_the_assignee(
    portal: Portal, mailing: Flask, smtp_sink: SmtpSink
) -> None:
    receipt, case = file_one(portal, mailing.test_client())
    set_case(portal, case.id, assigned_to_id=account_id(portal, INTAKE[1]))
    smtp_sink.clear()

    reply_as_reporter(mailing, receipt)

    assert smtp_sink.recipients() == [INTAKE[1]]
    assert_says_nothing(smtp_sink.messages[0], case, receipt)


def test_an_overdue_step_is_notified_once_a_day(
    portal: Portal, mailing: Flask, smtp_sink: SmtpSink
) -> None:
    client = mailing.test_client()
    receipt, assigned = file_one(portal, client)
    _, unassigned = file_one(portal, client)
    _, closed = file_one(portal, client)
    _, due_today = file_one(portal, client)
    yesterday = today() - timedelta(days=1)
    set_case(
        portal, assigned.id, next_due_on=yesterday, assigned_to_id=account_id(portal, INTAKE[0])
    )
    set_case(portal, unassigned.id, next_due_on=yesterday)
    set_case(portal, closed.id, next_due_on=yesterday, stage=Stage.CLOSED.value)
    set_case(portal, due_today.id, next_due_on=today())
    smtp_sink.clear()

    result = mailing.test_cli_runner().invoke(args=["notify", "overdue"])

    assert result.exit_code == 0, result.output
    # The assignee for the assigned case; the supervisors for the unassigned one.
    assert smtp_sink.recipients() == [INTAKE[0], SUPERVISOR]
    for message in smtp_sink.messages:
        assert_says_nothing(message, assigned, receipt)
        assert_says_nothing(message, unassigned, receipt)
        assert "A step is overdue." in message.body
    with portal.db as db:
        marked = set(
            db.scalars(select(AuditEvent.case_id).where(AuditEvent.action == "notify.overdue"))
        )
    assert marked == {assigned.id, unassigned.id}

    again = mailing.test_cli_runner().invoke(args=["notify", "overdue"])

    assert again.exit_code == 0, again.output
    assert len(smtp_sink.messages) == 2


def test_an_overdue_run_that_could_not_send_fails_and_is_tried_again(
    portal: Portal, mailing: Flask, smtp_sink: SmtpSink
) -> None:
    _, case = file_one(portal, mailing.test_client())
    set_case(portal, case.id, next_due_on=today() - timedelta(days=3))
    smtp_sink.clear()
    down = _app(portal, smtp_port=free_port())

    failed = down.test_cli_runner().invoke(args=["notify", "overdue"])

    assert failed.exit_code != 0
    assert "could not be sent" in failed.output
    assert SUPERVISOR not in failed.output
    down.extensions["portal_db"].dispose()

    retried = mailing.test_cli_runner().invoke(args=["notify", "overdue"])

    assert retried.exit_code == 0, retried.output
    assert smtp_sink.recipients() == [SUPERVISOR]


def test_one_supervisor_gets_one_email_for_many_overdue_cases(
    portal: Portal, mailing: Flask, smtp_sink: SmtpSink
) -> None:
    client = mailing.test_client()
    for _ in range(3):
        _, case = file_one(portal, client)
        set_case(portal, case.id, next_due_on=today() - timedelta(days=1))
    smtp_sink.clear()

    result = mailing.test_cli_runner().invoke(args=["notify", "overdue"])

    assert result.exit_code == 0, result.output
    assert smtp_sink.recipients() == [SUPERVISOR]
    assert "3 steps are overdue." in smtp_sink.messages[0].body


def test_the_digest_counts_yesterday_s_activity_once(
    portal: Portal, mailing: Flask, smtp_sink: SmtpSink
) -> None:
    client = mailing.test_client()
    receipt, first = file_one(portal, client)
    _, second = file_one(portal, client)
    reply_as_reporter(mailing, receipt)
    # Due today: overdue tomorrow.
    set_case(portal, first.id, assigned_to_id=account_id(portal, DIGEST), next_due_on=today())
    assert DIGEST not in smtp_sink.recipients()  # nothing at once for a digest account

    # Today's digest does not count today (reporter-side events carry only their day), and
    # with nothing to count, nothing is sent.
    runner = mailing.test_cli_runner()
    result = runner.invoke(args=["notify", "digest"])
    assert result.exit_code == 0, result.output
    assert DIGEST not in smtp_sink.recipients()

    smtp_sink.clear()
    tomorrow = today() + timedelta(days=1)
    with mailing.app_context(), portal.db as db:
        run = notify.send_digests(db, mailing.extensions["portal_settings"], on=tomorrow)
        assert run == notify.DigestRun(sent=1, failed=0)
        (message,) = smtp_sink.messages
        assert message.to == DIGEST
        assert_says_nothing(message, first, receipt)
        assert_says_nothing(message, second, receipt)
        assert "New complaints: 2" in message.body
        assert "Messages from reporters: 1" in message.body
        assert "Overdue steps: 1" in message.body

        again = notify.send_digests(db, mailing.extensions["portal_settings"], on=tomorrow)
        assert again == notify.DigestRun(sent=0, failed=0)
    assert len(smtp_sink.messages) == 1


def test_the_digest_command_sends_one_counting_email_a_day(
    portal: Portal, mailing: Flask, smtp_sink: SmtpSink
) -> None:
    receipt, case = file_one(portal, mailing.test_client())
    set_case(portal, case.id, received_on=today() - timedelta(days=1))
    smtp_sink.clear()
    runner = mailing.test_cli_runner()

    result = runner.invoke(args=["notify", "digest"])

    assert result.exit_code == 0, result.output
    assert "1 sent" in result.output
    (message,) = smtp_sink.messages
    assert message.to == DIGEST
    assert_says_nothing(message, case, receipt)
    assert "New complaints: 1" in message.body
    assert "Messages from reporters: 0" in message.body
    with portal.db as db:
        marks = db.scalars(select(AuditEvent).where(AuditEvent.action == "notify.digest")).all()
    assert [(mark.detail, mark.case_id) for mark in marks] == [
        (str(account_id(portal, DIGEST)), None)
    ]

    assert runner.invoke(args=["notify", "digest"]).exit_code == 0
    assert len(smtp_sink.messages) == 1


def test_an_smtp_server_that_is_down_breaks_nothing_and_is_logged_without_content(
    portal: Portal, mailing: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    down = _app(portal, smtp_port=free_port())  # nothing listens there
    caplog.set_level(logging.DEBUG)

    receipt, case = file_one(portal, down.test_client())  # the receipt page still appears
    reply_as_reporter(down, receipt)  # and the reporter's message still goes through

    with portal.db as db:
        assert db.scalar(select(Case.id)) == case.id
        actions = set(db.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case.id)))
    assert {"case.received", "case.reporter_message"} <= actions
    failures = [record for record in caplog.records if record.name == "portal.mail"]
    assert len(failures) == 2, caplog.text
    logged = caplog.text + "\n".join(
        f"{record.getMessage()} {record.args!r} {record.exc_text}" for record in caplog.records
    )
    for secret in (*EVERYONE, "example.org", case.reference, STORY, COMPANY, MESSAGE, receipt):
        assert secret not in logged, secret
    down.extensions["portal_db"].dispose()


def test_paused_notifications_send_nothing(
    portal: Portal, mailing: Flask, smtp_sink: SmtpSink
) -> None:
    _, case = file_one(portal, mailing.test_client())
    smtp_sink.clear()
    settings = mailing.extensions["portal_settings"]
    with mailing.app_context(), portal.db as db:
        with notify.paused():
            assert notify.case_received(db, settings, case.id) == 0
            assert notify.reporter_message(db, settings, case.id) == 0
        assert smtp_sink.messages == []
        assert notify.case_received(db, settings, case.id) == len(INTAKE)


def test_the_sign_in_address_comes_from_the_environment(tmp_path: object) -> None:
    env = {"PORTAL_DATA_DIR": str(tmp_path), "PORTAL_PUBLIC_URL": "https://complaints.example"}
    settings = Settings.from_env(env)
    assert settings.public_url == "https://complaints.example"
    assert notify.sign_in_url(settings) == "https://complaints.example/sign-in"
    assert Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path)}).public_url == (
        "http://127.0.0.1:5000"
    )


def test_an_account_chooses_the_daily_summary_on_its_account_page(portal):
    from portal.models import Account
    from tests.conftest import csrf_token, sign_in

    portal.account("chooser@example.org")
    staff = portal.app.test_client()
    sign_in(staff, "chooser@example.org")
    token = csrf_token(staff, "/caseworker/account")
    response = staff.post(
        "/caseworker/account/notifications", data={"csrf_token": token, "digest": "yes"}
    )
    assert response.status_code == 302
    with portal.db as db:
        account = db.scalar(select(Account).where(Account.email == "chooser@example.org"))
    assert account.notify_digest is True
    page = staff.get("/caseworker/account").get_data(as_text=True)
    assert 'id="digest-yes" name="digest" value="yes" checked' in page
    token = csrf_token(staff, "/caseworker/account")
    staff.post("/caseworker/account/notifications", data={"csrf_token": token, "digest": "no"})
    with portal.db as db:
        assert db.get(Account, account.id).notify_digest is False


def test_a_referral_without_an_answer_in_time_is_notified_to_the_assignee(
    portal: Portal, mailing: Flask, smtp_sink: SmtpSink
) -> None:
    receipt, case = file_one(portal, mailing.test_client())
    set_case(portal, case.id, next_due_on=today() + timedelta(days=5))
    set_case(portal, case.id, assigned_to_id=account_id(portal, INTAKE[0]))
    with portal.db as db:
        company = Company(id=uuid.uuid4(), name="Late Guards")
        db.add(company)
        db.flush()
        db.add(
            Referral(
                case_id=case.id,
                company_id=company.id,
                status="sent",
                sent_on=today() - timedelta(days=40),
                response_due_on=today() - timedelta(days=10),
            )
        )
        db.commit()
    smtp_sink.clear()

    result = mailing.test_cli_runner().invoke(args=["notify", "overdue"])

    assert result.exit_code == 0, result.output
    assert smtp_sink.recipients() == [INTAKE[0]]
    assert_says_nothing(smtp_sink.messages[0], case, receipt)
    assert "Late Guards" not in smtp_sink.messages[0].body
