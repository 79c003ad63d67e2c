"""The operator commands ``setup``, ``account create`` and ``demo``, through Flask's CLI runner.

The app is built like the ``portal`` fixture but not initialised: ``setup`` does that here.
Its database is already migrated, which ``setup`` accepts (migrating is its first, idempotent step).
"""

from __future__ import annotations

import io
import re
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import crypto
from portal import Settings, create_app
from portal.models import Account, Case, Installation
from portal.staff import authenticate
from tests.conftest import sign_in

STRONG_PASSWORD = "plum orchard 47 lanterns"
OTHER_STRONG_PASSWORD = "granite ferry 19 owls"
SECRET = re.compile(r"PRK1(?:-[A-Z2-7]+)+")
CASE_LINK = re.compile(r'href="(/caseworker/cases/[0-9a-f-]{36})"')
PRINTED_EMAIL = re.compile(r"email:\s+(\S+)")
PRINTED_PASSWORD = re.compile(r"password:\s+(\S+)")


@pytest.fixture
def fresh_app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings)
    yield app
    app.extensions["portal_db"].dispose()


def run(app: Flask, *args: str, input: Any = None) -> Result:
    """Run ``flask <args>`` on ``app``.

    No app context is pushed here: the commands must push their own (``with_appcontext``), as
    ``app.cli`` does not when it is invoked outside ``flask``'s ``FlaskGroup``.
    """
    return app.test_cli_runner().invoke(args=list(args), input=input)


def database(app: Flask) -> Session:
    return Session(app.extensions["portal_db"].engine)


def installation(app: Flask) -> Installation | None:
    with database(app) as db:
        return db.get(Installation, 1)


def account(app: Flask, email: str) -> Account | None:
    with database(app) as db:
        return db.scalar(select(Account).where(Account.email == email))


def account_count(app: Flask) -> int:
    with database(app) as db:
        return db.scalar(select(func.count()).select_from(Account)) or 0


def case_count(app: Flask) -> int:
    with database(app) as db:
        return db.scalar(select(func.count()).select_from(Case)) or 0


def recovery_public_key(secret: str) -> bytes:
    return crypto.public_bytes(crypto.parse_recovery_secret(secret))


def setup_with_file(app: Flask, path: Path) -> str:
    result = run(app, "setup", "--recovery-file", str(path))
    assert result.exit_code == 0, result.output
    return path.read_text(encoding="utf-8").strip()


# --- setup --------------------------------------------------------------------------------


def test_setup_writes_the_recovery_secret_to_a_private_file(
    fresh_app: Flask, tmp_path: Path
) -> None:
    path = tmp_path / "recovery.txt"

    result = run(fresh_app, "setup", "--recovery-file", str(path))

    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_text(encoding="utf-8").strip()
    row = installation(fresh_app)
    assert row is not None
    assert recovery_public_key(secret) == row.recovery_public_key
    assert secret not in result.output
    assert "PRK1" not in result.output


def test_setup_a_second_time_shows_no_secret(fresh_app: Flask, tmp_path: Path) -> None:
    secret = setup_with_file(fresh_app, tmp_path / "recovery.txt")
    first = installation(fresh_app)

    result = run(fresh_app, "setup")

    assert result.exit_code == 0, result.output
    assert "already set up" in result.output
    assert secret not in result.output
    assert "PRK1" not in result.output
    second = installation(fresh_app)
    assert first is not None and second is not None
    assert second.recovery_public_key == first.recovery_public_key
    assert second.receipt_salt == first.receipt_salt


def test_setup_a_second_time_with_a_new_file_writes_nothing(
    fresh_app: Flask, tmp_path: Path
) -> None:
    setup_with_file(fresh_app, tmp_path / "recovery.txt")
    second_file = tmp_path / "another.txt"

    result = run(fresh_app, "setup", "--recovery-file", str(second_file))

    assert result.exit_code == 0, result.output
    assert "already set up" in result.output
    assert not second_file.exists()


def test_setup_refuses_an_existing_recovery_file_and_sets_nothing_up(
    fresh_app: Flask, tmp_path: Path
) -> None:
    path = tmp_path / "recovery.txt"
    path.write_text("an operator's earlier file\n", encoding="utf-8")

    result = run(fresh_app, "setup", "--recovery-file", str(path))

    assert result.exit_code != 0
    assert "already exists" in result.output
    assert path.read_text(encoding="utf-8") == "an operator's earlier file\n"
    assert installation(fresh_app) is None


class OperatorTypingBackTheSecret(io.RawIOBase):
    """Standard input of an operator who types back the recovery secret shown on the screen.

    The secret is random on every run, so it cannot be known before ``setup`` prints it: the
    answer is read off the output the runner has captured so far, when the prompt asks for it.
    ``typos`` are typed first, one a prompt.
    """

    def __init__(self, *typos: str) -> None:
        super().__init__()
        self.typos = list(typos)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.typos:
            answer = self.typos.pop(0)
        else:
            shown = SECRET.search(sys.stdout.buffer.getvalue().decode("utf-8"))
            answer = shown.group(0) if shown else ""
        line = f"{answer}\n".encode()
        buffer[: len(line)] = line
        return len(line)


def operator(*typos: str) -> io.BufferedReader:
    return io.BufferedReader(OperatorTypingBackTheSecret(*typos))


def test_setup_without_a_file_shows_the_secret_once_and_completes_when_typed_back(
    fresh_app: Flask,
) -> None:
    result = run(fresh_app, "setup", input=operator())

    assert result.exit_code == 0, result.output
    shown = SECRET.findall(result.output)
    assert len(shown) == 1, result.output
    assert "does not match" not in result.output
    assert "Setup complete." in result.output
    row = installation(fresh_app)
    assert row is not None
    assert recovery_public_key(shown[0]) == row.recovery_public_key


def test_setup_without_a_file_accepts_the_secret_on_the_third_try(fresh_app: Flask) -> None:
    result = run(fresh_app, "setup", input=operator("PRK1-TYPO", "my recovery secret"))

    assert result.exit_code == 0, result.output
    assert result.output.count("does not match") == 2
    assert installation(fresh_app) is not None


def test_setup_fails_after_three_wrong_answers_and_sets_nothing_up(fresh_app: Flask) -> None:
    _other_key, valid_but_other_secret = crypto.generate_recovery_key()
    answers = ["PRK1-NOT-THE-SECRET", "I wrote it down", valid_but_other_secret]

    result = run(fresh_app, "setup", input="".join(f"{answer}\n" for answer in answers))

    assert result.exit_code != 0
    assert result.output.count("does not match") == 3
    assert "not confirmed" in result.output
    assert installation(fresh_app) is None


# --- account create -------------------------------------------------------------------------


def create(app: Flask, email: str, *options: str, password: str = STRONG_PASSWORD) -> Result:
    return run(
        app,
        "account",
        "create",
        "--role",
        "caseworker",
        "--email",
        email,
        "--name",
        "Amina Diallo",
        "--password-stdin",
        *options,
        input=f"{password}\n",
    )


def test_account_create_makes_a_caseworker_in_the_intake_team(fresh_app: Flask) -> None:
    result = create(fresh_app, "amina@example.org")

    assert result.exit_code == 0, result.output
    assert "intake team" in result.output
    created = account(fresh_app, "amina@example.org")
    assert created is not None
    assert created.role == "caseworker"
    assert created.display_name == "Amina Diallo"
    assert created.in_intake_team is True


def test_account_create_reads_the_whole_password_line_from_stdin(fresh_app: Flask) -> None:
    create(fresh_app, "amina@example.org")
    ext = fresh_app.extensions

    with fresh_app.app_context(), database(fresh_app) as db:
        right = authenticate(
            db, ext["portal_keyring"], ext["portal_settings"], "amina@example.org", STRONG_PASSWORD
        )
        wrong = authenticate(
            db, ext["portal_keyring"], ext["portal_settings"], "amina@example.org", "plum"
        )

    assert right is not None
    assert wrong is None


def test_account_create_with_no_intake_keeps_the_account_out_of_the_intake_team(
    fresh_app: Flask,
) -> None:
    result = create(fresh_app, "amina@example.org", "--no-intake")

    assert result.exit_code == 0, result.output
    assert "intake team" not in result.output
    created = account(fresh_app, "amina@example.org")
    assert created is not None
    assert created.in_intake_team is False


WEAK_PASSWORDS = pytest.mark.parametrize(
    ("weak", "reason"),
    [
        ("short", "at least 12 characters"),
        ("x" * 12, "more different characters"),
        ("password1234", "too common"),
        ("amina.diallo 2024!", "email address"),
    ],
)


@WEAK_PASSWORDS
def test_account_create_refuses_a_weak_password(fresh_app: Flask, weak: str, reason: str) -> None:
    result = create(fresh_app, "amina.diallo@example.org", password=weak)

    assert result.exit_code != 0
    assert account_count(fresh_app) == 0


@WEAK_PASSWORDS
def test_account_create_says_why_a_weak_password_is_refused(
    fresh_app: Flask, weak: str, reason: str
) -> None:
    result = create(fresh_app, "amina.diallo@example.org", password=weak)

    assert "Password refused" in result.output, repr(result.exception)
    assert reason in result.output


@pytest.mark.parametrize("again", ["amina@example.org", "Amina@Example.ORG"])
def test_account_create_refuses_an_email_already_in_use(fresh_app: Flask, again: str) -> None:
    assert create(fresh_app, "amina@example.org").exit_code == 0

    result = create(fresh_app, again, password=OTHER_STRONG_PASSWORD)

    assert result.exit_code != 0
    assert "already exists" in result.output
    assert account_count(fresh_app) == 1


def test_account_create_refuses_an_unknown_role(fresh_app: Flask) -> None:
    result = run(
        fresh_app,
        "account",
        "create",
        "--role",
        "emperor",
        "--email",
        "amina@example.org",
        "--name",
        "Amina",
        "--password-stdin",
        input=f"{STRONG_PASSWORD}\n",
    )

    assert result.exit_code == 2  # click's usage error
    assert "--role" in result.output
    assert account_count(fresh_app) == 0


def prompt_create(app: Flask, first: str, second: str) -> Result:
    args = ["account", "create", "--role", "supervisor", "--email", "lena@example.org"]
    return run(app, *args, "--name", "Lena", input=f"{first}\n{second}\n")


def test_account_create_prompts_for_the_password_twice(fresh_app: Flask) -> None:
    result = prompt_create(fresh_app, STRONG_PASSWORD, STRONG_PASSWORD)

    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    assert STRONG_PASSWORD not in result.output
    created = account(fresh_app, "lena@example.org")
    assert created is not None
    assert created.role == "supervisor"


def test_account_create_refuses_two_different_passwords_at_the_prompt(fresh_app: Flask) -> None:
    result = prompt_create(fresh_app, STRONG_PASSWORD, OTHER_STRONG_PASSWORD)

    assert result.exit_code != 0
    assert "do not match" in result.output
    assert account_count(fresh_app) == 0


def test_account_create_refuses_cleanly_a_password_containing_a_padded_email(
    fresh_app: Flask,
) -> None:
    result = create(fresh_app, " amina.diallo@example.org", password="amina.diallo 2024!")

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Password refused" in result.output


# --- demo -----------------------------------------------------------------------------------


def printed(pattern: re.Pattern[str], output: str) -> str:
    match = pattern.search(output)
    assert match, output
    return match.group(1)


def test_demo_prints_credentials_that_sign_in_to_its_cases(
    fresh_app: Flask, tmp_path: Path
) -> None:
    setup_with_file(fresh_app, tmp_path / "recovery.txt")

    result = run(fresh_app, "demo", "--cases", "2")

    assert result.exit_code == 0, result.output
    email = printed(PRINTED_EMAIL, result.output)
    password = printed(PRINTED_PASSWORD, result.output)
    assert case_count(fresh_app) == 2
    client = fresh_app.test_client()
    sign_in(client, email, password)
    listing = client.get("/caseworker/cases")
    assert listing.status_code == 200
    assert len(set(CASE_LINK.findall(listing.get_data(as_text=True)))) >= 2


def test_demo_keeps_its_password_in_a_private_file(fresh_app: Flask, tmp_path: Path) -> None:
    setup_with_file(fresh_app, tmp_path / "recovery.txt")

    result = run(fresh_app, "demo", "--cases", "0")

    assert result.exit_code == 0, result.output
    credentials = fresh_app.extensions["portal_data_dir"].root / "demo-credentials.txt"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert credentials.read_text(encoding="utf-8").strip() == printed(
        PRINTED_PASSWORD, result.output
    )


def test_demo_run_again_prints_the_same_password_and_makes_no_new_case(
    fresh_app: Flask, tmp_path: Path
) -> None:
    setup_with_file(fresh_app, tmp_path / "recovery.txt")
    first = run(fresh_app, "demo", "--cases", "2")
    assert first.exit_code == 0, first.output

    second = run(fresh_app, "demo")

    assert second.exit_code == 0, second.output
    assert printed(PRINTED_PASSWORD, second.output) == printed(PRINTED_PASSWORD, first.output)
    assert printed(PRINTED_EMAIL, second.output) == printed(PRINTED_EMAIL, first.output)
    assert "Made 0 demo case(s)" in second.output
    assert case_count(fresh_app) == 2
    assert account_count(fresh_app) == 2  # the caseworker and the organisation's officer
    assert PRINTED_PASSWORD.findall(second.output) == PRINTED_PASSWORD.findall(first.output)


def test_demo_prints_an_organisation_account_that_lands_on_its_cases(
    fresh_app: Flask, tmp_path: Path
) -> None:
    setup_with_file(fresh_app, tmp_path / "recovery.txt")

    result = run(fresh_app, "demo", "--cases", "0")

    assert result.exit_code == 0, result.output
    emails = PRINTED_EMAIL.findall(result.output)
    passwords = PRINTED_PASSWORD.findall(result.output)
    assert emails[1] == "demo.organisation@example.org" and len(set(passwords)) == 2
    credentials = fresh_app.extensions["portal_data_dir"].root
    kept = (credentials / "demo-organisation-credentials.txt").read_text(encoding="utf-8")
    assert kept.strip() == passwords[1]
    client = fresh_app.test_client()
    sign_in(client, emails[1], passwords[1])
    home = client.get("/intermediary/")
    assert home.status_code == 200
    assert "Demo Rights Network" in home.get_data(as_text=True)
    assert 'href="/intermediary/colleagues"' in home.get_data(as_text=True)  # its admin
