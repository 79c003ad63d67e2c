"""Fixtures: a real app on a real database (SQLite file or PostgreSQL), never mocks."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from crypto import Argon2Params
from portal import Settings, create_app, migrate
from portal.catalogs import compile_catalogs
from portal.models import Account, Role
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
    ) -> Account:
        with self.app.app_context(), self.db as db:
            account = create_account(
                db,
                self.keyring,
                self.settings,
                email=email,
                display_name=email.split("@")[0].title(),
                role=role,
                password=password,
                intake=intake,
            )
            db.commit()
            return account


@pytest.fixture
def portal(settings: Settings) -> Iterator[Portal]:
    app = create_app(settings)
    with Session(app.extensions["portal_db"].engine) as db:
        key, secret = initialise(db, app.extensions["portal_keyring"], settings)
        db.commit()
    yield Portal(app=app, settings=settings, recovery_key=key, recovery_secret=secret)
    app.extensions["portal_db"].dispose()


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


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in", data={"csrf_token": token, "email": email, "password": password}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


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
