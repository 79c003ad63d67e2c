"""A small HTTP client for tests against a real server process: cookies, CSRF, multipart."""

from __future__ import annotations

import http.cookiejar
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


class Client:
    """Keeps cookies like a browser; never sends anything but to ``base``."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def _open(self, request: urllib.request.Request) -> Reply:
        try:
            with self.opener.open(request, timeout=120) as response:
                return Reply(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Reply(error.code, dict(error.headers), error.read())

    def get(self, path: str) -> Reply:
        return self._open(urllib.request.Request(self.base + path))

    def csrf(self, path: str) -> str:
        reply = self.get(path)
        match = _CSRF.search(reply.text)
        assert match, f"no CSRF token on {path} ({reply.status})"
        return match.group(1)

    def submit(self, path: str, fields: dict[str, str | list[str]]) -> Reply:
        """POST a form without files as a browser does: application/x-www-form-urlencoded."""
        body = urllib.parse.urlencode(fields, doseq=True).encode("ascii")
        request = urllib.request.Request(
            self.base + path,
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        return self._open(request)

    def post(
        self,
        path: str,
        fields: dict[str, str | list[str]],
        files: list[tuple[str, str, bytes, str]] | None = None,
    ) -> Reply:
        """POST as multipart/form-data; ``files`` holds (field, filename, content, type)."""
        boundary = "----portal-test-" + secrets.token_hex(12)
        parts: list[bytes] = []
        for name, values in fields.items():
            for value in [values] if isinstance(values, str) else values:
                head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                parts.append(head.encode() + value.encode("utf-8") + b"\r\n")
        for field, filename, content, content_type in files or []:
            parts.append(
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
                    f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
                ).encode()
                + content
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        request = urllib.request.Request(
            self.base + path,
            data=body,
            method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        return self._open(request)
