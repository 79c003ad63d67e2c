"""Typed, frozen settings. Built directly by tests, or from ``PORTAL_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from crypto import PRODUCTION, Argon2Params

MIB = 1024 * 1024
SUPPORTED_LANGUAGES = ("en", "fr", "es", "ar", "sw", "pt")
RTL_LANGUAGES = frozenset({"ar"})


class ConfigError(ValueError):
    """A setting is missing, malformed or unsafe."""


@dataclass(frozen=True)
class Settings:
    """Everything the portal can be configured with. No secret lives here: keys are files."""

    data_dir: Path
    database_url: str
    languages: tuple[str, ...] = SUPPORTED_LANGUAGES
    default_language: str = "en"
    max_request_bytes: int = 55 * MIB
    max_upload_bytes: int = 50 * MIB
    max_files: int = 10
    max_text_chars: int = 50_000
    argon2: Argon2Params = PRODUCTION
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "portal@localhost"
    # Where staff sign in, as written in notification emails (e.g. https://portal.example.org).
    public_url: str = "http://127.0.0.1:5000"
    staff_idle_minutes: int = 30
    staff_absolute_hours: int = 12
    reporter_idle_minutes: int = 15
    receipt_valid_days: int = 730
    acknowledge_within_days: int = 7
    # After closure, the reporter is asked again about the remedies after this many days.
    feedback_after_days: int = 182
    # Days a member company has to answer a referral when it committed to no response time.
    referral_response_days: int = 30
    # How long a closed case is kept, by how it ended (days after closure); see portal.retention.
    retention_closed_days: int = 5 * 365  # remedied, partly or not remedied, no response
    retention_not_eligible_days: int = 365
    retention_withdrawn_days: int = 90
    retention_spam_days: int = 30  # closed as not eligible without ever being acknowledged
    onion_address: str = ""
    # Reverse proxies in front of the portal whose X-Forwarded-For may be trusted (0: none).
    proxy_hops: int = 0
    # Receipt checks (an Argon2id run each) allowed per second and in a burst: per process, or
    # for every server together when PORTAL_REDIS_URL is set.
    follow_up_rate: float = 4.0
    follow_up_burst: int = 8
    follow_up_per_client: int = 5  # receipt tries a minute from one client
    # Complaints sent (an Argon2id run per receipt) per second and in a burst, the same way: a
    # flood of anonymous sends cannot take every core from follow-ups and sign-ins.
    filing_rate: float = 6.0
    filing_burst: int = 60
    # Where those counters are kept: empty, in each process's memory; a redis:// URL, shared.
    redis_url: str = field(default="", repr=False)  # repr=False: the URL may hold a password
    behind_https: bool = False
    quick_exit_url: str = "https://www.wikipedia.org/"
    site_title: str = ""  # empty: a neutral "Feedback", in the reader's language
    testing: bool = False
    # Days allowed in each stage (see portal.workflow.DEFAULT_DEADLINES), e.g. {"assessment": 20}.
    stage_deadlines: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.testing and not self.argon2.is_production_strength:
            raise ConfigError("Argon2id cost below the production minimum outside tests")
        unknown = set(self.languages) - set(SUPPORTED_LANGUAGES)
        if unknown or self.default_language not in self.languages:
            raise ConfigError(f"unsupported languages: {sorted(unknown) or self.default_language}")
        if self.max_upload_bytes > self.max_request_bytes:
            raise ConfigError("max_upload_bytes cannot exceed max_request_bytes")

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file, when the database is SQLite."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix):
            return Path(self.database_url[len(prefix) :])
        return None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``PORTAL_*`` variables; anything unset takes its default."""
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("PORTAL_DATA_DIR") or "instance").resolve()
        database_url = env.get("PORTAL_DATABASE_URL") or f"sqlite:///{data_dir / 'portal.sqlite3'}"
        values: dict[str, object] = {"data_dir": data_dir, "database_url": database_url}
        if "PORTAL_LANGUAGES" in env:
            values["languages"] = tuple(
                code.strip() for code in env["PORTAL_LANGUAGES"].split(",") if code.strip()
            )
        ints = {
            "PORTAL_MAX_REQUEST_MB": ("max_request_bytes", MIB),
            "PORTAL_MAX_UPLOAD_MB": ("max_upload_bytes", MIB),
            "PORTAL_MAX_FILES": ("max_files", 1),
            "PORTAL_SMTP_PORT": ("smtp_port", 1),
            "PORTAL_STAFF_IDLE_MINUTES": ("staff_idle_minutes", 1),
            "PORTAL_STAFF_ABSOLUTE_HOURS": ("staff_absolute_hours", 1),
            "PORTAL_REPORTER_IDLE_MINUTES": ("reporter_idle_minutes", 1),
            "PORTAL_RECEIPT_VALID_DAYS": ("receipt_valid_days", 1),
            "PORTAL_ACKNOWLEDGE_WITHIN_DAYS": ("acknowledge_within_days", 1),
            "PORTAL_FEEDBACK_AFTER_DAYS": ("feedback_after_days", 1),
            "PORTAL_REFERRAL_RESPONSE_DAYS": ("referral_response_days", 1),
            "PORTAL_RETENTION_CLOSED_DAYS": ("retention_closed_days", 1),
            "PORTAL_RETENTION_NOT_ELIGIBLE_DAYS": ("retention_not_eligible_days", 1),
            "PORTAL_RETENTION_WITHDRAWN_DAYS": ("retention_withdrawn_days", 1),
            "PORTAL_RETENTION_SPAM_DAYS": ("retention_spam_days", 1),
        }
        for name, (attr, unit) in ints.items():
            if name in env:
                values[attr] = _positive_int(env, name) * unit
        strings = {
            "PORTAL_DEFAULT_LANGUAGE": "default_language",
            "PORTAL_SMTP_HOST": "smtp_host",
            "PORTAL_SMTP_SENDER": "smtp_sender",
            "PORTAL_PUBLIC_URL": "public_url",
            "PORTAL_QUICK_EXIT_URL": "quick_exit_url",
            "PORTAL_SITE_TITLE": "site_title",
            "PORTAL_ONION_ADDRESS": "onion_address",
            "PORTAL_REDIS_URL": "redis_url",
        }
        for name, attr in strings.items():
            if env.get(name):
                values[attr] = env[name]
        if env.get("PORTAL_STAGE_DEADLINES"):
            values["stage_deadlines"] = _deadlines(env["PORTAL_STAGE_DEADLINES"])
        for name, attr in (
            ("PORTAL_FOLLOW_UP_BURST", "follow_up_burst"),
            ("PORTAL_FOLLOW_UP_PER_CLIENT", "follow_up_per_client"),
            ("PORTAL_FILING_BURST", "filing_burst"),
        ):
            if name in env:
                values[attr] = _positive_int(env, name)
        for name, attr in (
            ("PORTAL_FOLLOW_UP_RATE", "follow_up_rate"),
            ("PORTAL_FILING_RATE", "filing_rate"),
        ):
            if name in env:
                values[attr] = _positive_float(env, name)
        if env.get("PORTAL_PROXY_HOPS"):
            values["proxy_hops"] = int(env["PORTAL_PROXY_HOPS"])
        if "PORTAL_BEHIND_HTTPS" in env:
            values["behind_https"] = env["PORTAL_BEHIND_HTTPS"].lower() in {"1", "true", "yes"}
        if "PORTAL_ARGON2_MEMORY_KIB" in env or "PORTAL_ARGON2_TIME_COST" in env:
            # Only raising the cost is allowed; __post_init__ refuses anything weaker.
            values["argon2"] = Argon2Params(
                memory_kib=_positive_int(env, "PORTAL_ARGON2_MEMORY_KIB", PRODUCTION.memory_kib),
                time_cost=_positive_int(env, "PORTAL_ARGON2_TIME_COST", PRODUCTION.time_cost),
            )
        return cls(**values)  # type: ignore[arg-type]


def _positive_int(env: Mapping[str, str], name: str, default: int | None = None) -> int:
    raw = env.get(name)
    if raw is None and default is not None:
        return default
    try:
        value = int(str(raw))
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number") from exc
    if value <= 0:
        raise ConfigError(f"{name} must be positive")
    return value


def _positive_float(env: Mapping[str, str], name: str) -> float:
    try:
        value = float(env[name])
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number") from exc
    if not value > 0 or value == float("inf"):
        raise ConfigError(f"{name} must be positive")
    return value


def _deadlines(raw: str) -> dict[str, int]:
    """``assessment=20,review=10`` into a mapping of stage to days."""
    deadlines = {}
    for item in raw.split(","):
        if not item.strip():
            continue
        stage, _, days = item.partition("=")
        if not days.strip().isdigit():
            raise ConfigError(f"PORTAL_STAGE_DEADLINES: {item.strip()!r} is not stage=days")
        deadlines[stage.strip()] = int(days)
    return deadlines
