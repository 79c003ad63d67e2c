"""A real SMTP server on loopback (aiosmtpd) that keeps every message it receives."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.support.server import free_port


@dataclass(frozen=True)
class Received:
    """One message as it arrived: the envelope and the parsed email."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    email: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.email["Subject"])

    @property
    def body(self) -> str:
        part = self.email.get_body(preferencelist=("plain",))
        assert part is not None, "no text/plain body"
        return str(part.get_content())

    @property
    def to(self) -> str:
        assert len(self.rcpt_tos) == 1, self.rcpt_tos
        return self.rcpt_tos[0]


class _Collector:
    """The aiosmtpd handler: accepts everything and stores it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[Received] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content or envelope.content)
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.received.append(
                Received(
                    mail_from=str(envelope.mail_from),
                    rcpt_tos=tuple(str(rcpt) for rcpt in envelope.rcpt_tos),
                    raw=raw,
                    email=parsed,
                )
            )
        return "250 Message accepted for delivery"


class SmtpSink:
    """The running server: its port, and what it has received so far."""

    def __init__(self, port: int, collector: _Collector) -> None:
        self.port = port
        self._collector = collector

    @property
    def messages(self) -> list[Received]:
        with self._collector.lock:
            return list(self._collector.received)

    def recipients(self) -> list[str]:
        """Every envelope recipient, sorted."""
        return sorted(rcpt for message in self.messages for rcpt in message.rcpt_tos)

    def clear(self) -> None:
        with self._collector.lock:
            self._collector.received.clear()


@contextmanager
def running_sink() -> Iterator[SmtpSink]:
    """An SMTP server on 127.0.0.1 at a free port, for the duration of the block."""
    collector = _Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpSink(controller.port, collector)
    finally:
        controller.stop()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A real SMTP server on loopback that keeps what it receives."""
    with running_sink() as sink:
        yield sink
