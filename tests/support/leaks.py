"""Searching storage, logs and system-call traces for secrets, in several encodings."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator
from pathlib import Path


def encodings(secret: bytes) -> dict[str, bytes]:
    """The forms a leaked secret could take: raw, UTF-16, base64 at each alignment, hex."""
    text = secret.decode("utf-8", errors="ignore")
    forms = {
        "raw": secret,
        "utf-16-le": text.encode("utf-16-le"),
        "utf-16-be": text.encode("utf-16-be"),
        "hex": secret.hex().encode(),
        "HEX": secret.hex().upper().encode(),
    }
    for shift in range(3):
        # Base64 of the secret preceded by `shift` bytes: drop the edges that depend on them.
        encoded = base64.b64encode(b"\0" * shift + secret)
        start = (shift * 4 + 2) // 3 + (1 if shift else 0)
        core = encoded[start : len(encoded) - 4]
        if len(core) >= 12:
            forms[f"base64+{shift}"] = core
            forms[f"base64url+{shift}"] = core.replace(b"+", b"-").replace(b"/", b"_")
    return forms


def find_in_bytes(data: bytes, secrets_: dict[str, bytes]) -> list[str]:
    """Names of the secrets (with encoding) found in ``data``."""
    hits = []
    for name, secret in secrets_.items():
        for encoding, form in encodings(secret).items():
            if form in data:
                hits.append(f"{name} ({encoding})")
    return hits


def files_under(*roots: Path) -> Iterator[Path]:
    for root in roots:
        if root.is_file():
            yield root
        elif root.is_dir():
            yield from (path for path in root.rglob("*") if path.is_file())


def scan_files(paths: Iterable[Path], secrets_: dict[str, bytes]) -> list[str]:
    findings = []
    for path in paths:
        hits = find_in_bytes(path.read_bytes(), secrets_)
        findings += [f"{path}: {hit}" for hit in hits]
    return findings


_CALL = re.compile(r"^\d+\s+(\w+)\((\d+)<((?:\\x[0-9a-f]{2})*)>, (.*)$")
_STRING = re.compile(r'"((?:\\x[0-9a-f]{2})*)"')
_SOCKET_PREFIXES = (
    "socket:",
    "TCP:",
    "TCPv6:",
    "UDP:",
    "UDPv6:",
    "UNIX:",
    "UNIX-STREAM:",
    "NETLINK:",
)


def _unhex(escaped: str) -> bytes:
    return bytes.fromhex(escaped.replace("\\x", ""))


def traced_writes(trace: Path) -> Iterator[tuple[str, str, bytes]]:
    """(syscall, target, bytes) for each write strace saw (run with ``-y -xx``), not sockets."""
    with trace.open(encoding="ascii", errors="replace") as handle:
        for line in handle:
            match = _CALL.match(line)
            if not match:
                continue
            syscall, _fd, target_hex, rest = match.groups()
            target = _unhex(target_hex).decode("utf-8", "replace")
            if target.startswith(_SOCKET_PREFIXES):
                continue  # the network is where the caseworker is meant to read it
            payload = b"\n".join(_unhex(s) for s in _STRING.findall(rest))
            yield syscall, target, payload


def scan_trace(trace: Path, secrets_: dict[str, bytes]) -> list[str]:
    findings = []
    for syscall, target, payload in traced_writes(trace):
        findings += [f"{syscall} to {target}: {hit}" for hit in find_in_bytes(payload, secrets_)]
    return findings
