"""Fixtures: a real app on a real database (SQLite file or PostgreSQL), never mocks."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

import crypto
from crypto import Argon2Params
from portal import Settings, create_app, migrate, tallies, totp
from portal.catalogs import compile_catalogs
from portal.models import Account, Company, Organisation, OrganisationStatus, Role
from portal.setup import initialise
from portal.staff import create_account
from tests.support import database as testdb
from tests.support.server import free_port

# Cheap Argon2id for tests; production strength is tested on its own.
TEST_ARGON2 = Argon2Params(memory_kib=1024, time_cost=1)
PASSWORD = "correct horse battery staple 42"


def pytest_configure(config: pytest.Config) -> None:
    # Compile the catalogs once, before any worker starts, so every language is really shown.
    if not hasattr(config, "workerinput"):
        compile_catalogs()


def pytest_report_header() -> str:
    return f"portal database: {'PostgreSQL' if testdb.on_postgres() else 'SQLite'}"


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str | None]:
    if not testdb.on_postgres():
        yield None
        return
    url = testdb.create_postgres_database("portal_test")
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    testdb.drop_postgres_database(url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return testdb.sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def database_url(
    tmp_path: Path, postgres_database: str | None, sqlite_template: Path
) -> Iterator[str]:
    if postgres_database is not None:
        testdb.truncate_all(postgres_database)
        yield postgres_database
    else:
        yield testdb.fresh_sqlite(sqlite_template, tmp_path / "data")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        argon2=TEST_ARGON2,
        testing=True,
    )


@dataclass
class Portal:
    """The app under test, with handles tests need."""

    app: Flask
    settings: Settings
    recovery_key: PrivateKey
    recovery_secret: str
    # email -> TOTP secret of the accounts made by ``account``
    totp_secrets: dict[str, str] = field(default_factory=dict)

    @property
    def db(self) -> Session:
        return Session(self.app.extensions["portal_db"].engine, expire_on_commit=False)

    @property
    def keyring(self):  # type: ignore[no-untyped-def]
        return self.app.extensions["portal_keyring"]

    @property
    def data_dir(self):  # type: ignore[no-untyped-def]
        return self.app.extensions["portal_data_dir"]

    def account(
        self,
        email: str,
        role: Role = Role.CASEWORKER,
        *,
        intake: bool = True,
        password: str = PASSWORD,
        enrolled: bool = True,
        company: str = "Test Guarding Ltd",
        organisation: str = "Test Rights Network",
        org_admin: bool = False,
    ) -> Account:
        """A new account; ``enrolled`` gives it a second factor (its secret in ``totp_secrets``)."""
        with self.app.app_context(), self.db as db:
            employer = None
            if role is Role.COMPANY:  # a grievance officer of ``company`` (made if missing)
                employer = db.scalar(select(Company).where(Company.name == company))
                if employer is None:
                    employer = Company(id=uuid.uuid4(), name=company)
                    db.add(employer)
                    db.flush()
            group = None
            if role is Role.INTERMEDIARY:  # of the approved ``organisation`` (made if missing)
                group = db.scalar(select(Organisation).where(Organisation.name == organisation))
                if group is None:
                    group = Organisation(
                        id=uuid.uuid4(),
                        name=organisation,
                        country="KE",
                        kind="cso",
                        status=OrganisationStatus.APPROVED.value,
                    )
                    db.add(group)
                    db.flush()
            account = create_account(
                db,
                self.keyring,
                self.settings,
                email=email,
                display_name=email.split("@")[0].title(),
                role=role,
                password=password,
                intake=intake,
                company=employer,
                organisation=group,
                is_org_admin=org_admin,
            )
            if enrolled:
                secret = totp.new_secret()
                context = totp.secret_context(account.id)
                account.totp_secret = totp.seal_secret(account.public_key, context, secret)
                self.totp_secrets[account.email] = secret
            db.commit()
            return account


@pytest.fixture
def portal(settings: Settings) -> Iterator[Portal]:
    app = create_app(settings)
    with Session(app.extensions["portal_db"].engine) as db:
        key, secret = initialise(db, app.extensions["portal_keyring"], settings)
        db.commit()
    yield Portal(app=app, settings=settings, recovery_key=key, recovery_secret=secret)
    # Whatever the test did, the kept counts of cases per account and stage are still exact.
    with Session(app.extensions["portal_db"].engine) as db:
        kept, counted = tallies.stored(db), tallies.truth(db)
    app.extensions["portal_db"].dispose()
    assert kept == counted, f"stage tallies drifted: kept {kept}, counted {counted}"


@pytest.fixture
def app(portal: Portal) -> Flask:
    return portal.app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str) -> str:
    """GET a form page and return its CSRF token, as a browser would."""
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    match = _CSRF.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


_TOTP_SECRET = re.compile(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)</code>')


def next_totp_code(app: Flask, email: str, password: str = PASSWORD) -> str:
    """A code the account has not used yet, read with its password like the server would.

    A code is refused for a step at or before the last one accepted: signing in again within
    30 s uses the next step (still inside the window), and beyond that the helper forgets the
    last step in the database, as if time had passed.
    """
    with Session(app.extensions["portal_db"].engine) as db:
        account = db.scalar(select(Account).where(Account.email == email.strip().lower()))
        assert account is not None and account.totp_secret is not None, email
        key = crypto.unlock_account_key(
            account.id, password, account.wrapped_private_key, account.public_key
        )
        secret = totp.open_secret(key, totp.secret_context(account.id), account.totp_secret)
        now = totp.current_step()
        last = account.totp_last_step
        step = now if last is None else max(now, last + 1)
        if step > now + totp.VALID_WINDOW:
            account.totp_last_step, step = None, now
            db.commit()
        return totp.code_at(secret, step)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    """Sign in through both steps: the password, then a TOTP code (enrolling if need be)."""
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in", data={"csrf_token": token, "email": email, "password": password}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    step_two = response.headers["Location"]
    if step_two == "/sign-in/enrol":
        page = client.get(step_two).get_data(as_text=True)
        shown = _TOTP_SECRET.search(page)
        assert shown, page[:2000]
        code = totp.code_at(shown.group(1).replace(" ", ""), totp.current_step())
        form = {"csrf_token": csrf_token(client, step_two), "code": code}
        response = client.post(step_two, data=form)
        assert response.status_code == 200, response.get_data(as_text=True)[:2000]
        assert "Your recovery codes" in response.get_data(as_text=True)
        return
    assert step_two == "/sign-in/second-factor", step_two
    code = next_totp_code(client.application, email, password)
    form = {"csrf_token": csrf_token(client, step_two), "code": code}
    response = client.post(step_two, data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"] in ("/caseworker/cases", "/company/", "/intermediary/")


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` on loopback with Werkzeug in a thread; yields its base URL."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The test app served on loopback."""
    with serving(app) as url:
        yield url
