"""Settings from ``PORTAL_*`` variables, and the key files the data dir creates on first use."""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from crypto import PRODUCTION
from portal import Settings, create_app
from portal.config import ConfigError
from portal.datadir import SECRET_KEY_FILE, SERVER_MAC_KEY_FILE, DataDir
from tests.conftest import TEST_ARGON2


def test_an_empty_environment_puts_a_sqlite_database_in_the_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    settings = Settings.from_env({})

    instance = tmp_path.resolve() / "instance"
    assert settings.data_dir == instance
    assert settings.data_dir.is_absolute()
    assert settings.database_url == f"sqlite:///{instance / 'portal.sqlite3'}"
    assert settings.sqlite_path == instance / "portal.sqlite3"


def test_an_empty_environment_means_production_settings() -> None:
    settings = Settings.from_env({})

    assert settings.argon2 == PRODUCTION
    assert settings.testing is False
    assert settings.languages == ("en", "fr", "es", "ar", "sw", "pt")


def test_the_data_dir_comes_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env({"PORTAL_DATA_DIR": str(tmp_path / "portal-data")})

    assert settings.data_dir == tmp_path / "portal-data"
    assert settings.database_url == f"sqlite:///{tmp_path / 'portal-data' / 'portal.sqlite3'}"


def test_the_database_url_is_used_as_given() -> None:
    url = "postgresql+psycopg://portal:p%40ss%25word@db.internal:5433/portal?sslmode=require"

    settings = Settings.from_env({"PORTAL_DATABASE_URL": url})

    assert settings.database_url == url
    assert settings.sqlite_path is None


@pytest.mark.parametrize(
    "variables",
    [
        {"PORTAL_ARGON2_MEMORY_KIB": str(PRODUCTION.memory_kib - 1)},
        {"PORTAL_ARGON2_MEMORY_KIB": "1024"},
        {"PORTAL_ARGON2_TIME_COST": str(PRODUCTION.time_cost - 1)},
    ],
)
def test_an_argon2_cost_below_production_is_refused(variables: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        Settings.from_env(variables)


def test_an_argon2_cost_above_production_is_taken() -> None:
    settings = Settings.from_env({"PORTAL_ARGON2_MEMORY_KIB": str(2 * PRODUCTION.memory_kib)})

    assert settings.argon2.memory_kib == 2 * PRODUCTION.memory_kib
    assert settings.argon2.time_cost == PRODUCTION.time_cost


@pytest.mark.parametrize(
    "variables",
    [
        {"PORTAL_LANGUAGES": "en,xx"},
        {"PORTAL_LANGUAGES": "klingon"},
        {"PORTAL_LANGUAGES": "en,ar", "PORTAL_DEFAULT_LANGUAGE": "fr"},  # not enabled
    ],
)
def test_an_unknown_language_is_refused(variables: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        Settings.from_env(variables)


def test_supported_languages_are_taken() -> None:
    settings = Settings.from_env({"PORTAL_LANGUAGES": "en, fr,ar", "PORTAL_DEFAULT_LANGUAGE": "fr"})

    assert settings.languages == ("en", "fr", "ar")
    assert settings.default_language == "fr"


def test_cheap_argon2_is_refused_outside_tests(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        Settings(data_dir=tmp_path, database_url="sqlite://", argon2=TEST_ARGON2, testing=False)


def test_cheap_argon2_is_allowed_in_tests(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url="sqlite://", argon2=TEST_ARGON2, testing=True
    )

    assert settings.argon2 == TEST_ARGON2


# --- the data dir's key files ------------------------------------------------------------------


@pytest.fixture
def data_settings(tmp_path: Path) -> Settings:
    data_dir = tmp_path / "new-data-dir"
    return Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'portal.sqlite3'}",
        argon2=TEST_ARGON2,
        testing=True,
    )


@pytest.fixture
def make_app(data_settings: Settings) -> Iterator[Callable[[], Flask]]:
    apps: list[Flask] = []

    def make() -> Flask:
        app = create_app(data_settings)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["portal_db"].dispose()


@pytest.mark.parametrize("name", [SECRET_KEY_FILE, SERVER_MAC_KEY_FILE])
def test_create_app_makes_a_private_32_byte_key_file(
    make_app: Callable[[], Flask], data_settings: Settings, name: str
) -> None:
    key_file = data_settings.data_dir / name
    assert not key_file.exists()

    make_app()

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_bytes()) == 32


@pytest.mark.parametrize("name", [SECRET_KEY_FILE, SERVER_MAC_KEY_FILE])
def test_key_files_stay_the_same_across_two_create_app_calls(
    make_app: Callable[[], Flask], data_settings: Settings, name: str
) -> None:
    make_app()
    first = (data_settings.data_dir / name).read_bytes()

    make_app()

    assert (data_settings.data_dir / name).read_bytes() == first


def test_the_app_signs_with_the_secret_key_file_every_time(
    make_app: Callable[[], Flask], data_settings: Settings
) -> None:
    first = make_app()
    second = make_app()

    on_disk = (data_settings.data_dir / SECRET_KEY_FILE).read_bytes()
    assert first.config["SECRET_KEY"] == on_disk
    assert second.config["SECRET_KEY"] == on_disk


def test_the_two_keys_are_independent(
    make_app: Callable[[], Flask], data_settings: Settings
) -> None:
    make_app()
    data_dir = DataDir(data_settings.data_dir)

    assert data_dir.secret_key() != data_dir.server_mac_key()


def test_the_data_dir_and_its_folders_are_private(
    make_app: Callable[[], Flask], data_settings: Settings
) -> None:
    make_app()
    data_dir = DataDir(data_settings.data_dir)

    for folder in (data_dir.root, data_dir.files, data_dir.incoming):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_a_damaged_key_file_is_refused(data_settings: Settings) -> None:
    data_dir = DataDir(data_settings.data_dir)
    data_dir.prepare()
    (data_dir.root / SERVER_MAC_KEY_FILE).write_bytes(b"too short")

    with pytest.raises(RuntimeError, match="damaged"):
        data_dir.server_mac_key()
