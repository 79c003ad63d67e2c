"""deploy/nginx/portal.conf, for real: Debian's nginx in front of two gunicorn instances.

The example configuration is run as it is, with only its ports, certificate and log paths
replaced, under a throwaway self-signed certificate: the clearnet block (TLS) in front of an
instance with PORTAL_BEHIND_HTTPS=true and PORTAL_PROXY_HOPS=1, the onion block (plain HTTP on
loopback) in front of one without either, both on one data dir, as docs/operations.md sets them
up. Through nginx: the portal's security headers arrive once each with HSTS and Onion-Location,
nginx shows no version; port 80 redirects to HTTPS; a body over nginx's limit gets its 413, one
over the portal's (lower) limit the portal's own evidence page; a filing with an attachment
works with Secure ``__Host-`` cookies; the portal sees ``X-Forwarded-For`` as nginx set it,
never as the client sent it; nginx's temporary directories are unwritable and an upload still
gets through, so nothing was spooled to disk; nothing is logged with the client's address.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from portal.config import Settings
from portal.web import CSP
from tests.support.http import Client
from tests.support.server import ROOT, ServerProcess, free_port, run_cli

pytestmark = pytest.mark.slow

REQUIRED = bool(os.environ.get("CI") or os.environ.get("PORTAL_REQUIRE_BROWSER"))
DEPLOY = ROOT / "deploy" / "nginx"
NGINX = Path("/usr/sbin/nginx")
OPENSSL = Path("/usr/bin/openssl")
SERVER_NAME = "portal.example.org"
ONION = "portalexampleonionaddressxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.onion"
SPOOFED = "203.0.113.66"  # what a client claims as its address; the portal must not see it
STORY = "nginx-canary: the guards at the quarry gate"
TEMP_DIRS = ("body", "proxy", "fastcgi", "uwsgi", "scgi")
# The portal's own security headers (portal/web.py), each to arrive exactly once.
APP_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Cache-Control": "no-store, max-age=0",
}
# gunicorn's access log, in the test only: what each request carried from nginx.
FORWARDED_LOG = "%(m)s %(U)s xff=%({x-forwarded-for}i)s proto=%({x-forwarded-proto}i)s"


def _tools() -> None:
    missing = [str(tool) for tool in (NGINX, OPENSSL) if not tool.exists()]
    if missing:
        message = f"not installed: {', '.join(missing)} (apt-get install nginx openssl)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class Stack:
    https: int
    http: int
    onion: int
    context: ssl.SSLContext
    cert: Path
    nginx_dir: Path
    data_dir: Path
    web_log: Path
    onion_log: Path


def _render(text: str, replacements: dict[str, str]) -> str:
    """Replace each line the test must change; each must be in the file as shipped."""
    for old, new in replacements.items():
        assert old in text, f"deploy/nginx/portal.conf no longer has {old!r}: update this test"
        text = text.replace(old, new)
    return text


def _certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(
        [
            str(OPENSSL),
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={SERVER_NAME}",
            "-addext",
            f"subjectAltName=DNS:{SERVER_NAME},IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def _nginx_config(
    directory: Path, ports: dict[str, int], cert: Path, key: Path, logs: Path, temp: Path
) -> Path:
    (directory / "snippets").mkdir(parents=True)
    # The snippet exactly as shipped; portal.conf includes it relative to the main config.
    snippet = (DEPLOY / "portal-proxy.conf").read_text(encoding="utf-8")
    (directory / "snippets" / "portal-proxy.conf").write_text(snippet, encoding="utf-8")
    site = _render(
        (DEPLOY / "portal.conf").read_text(encoding="utf-8"),
        {
            "listen 80;": f"listen 127.0.0.1:{ports['http']};",
            "listen [::]:80;": "",
            "listen 443 ssl;": f"listen 127.0.0.1:{ports['https']} ssl;",
            "listen [::]:443 ssl;": "",
            "listen 127.0.0.1:8001;": f"listen 127.0.0.1:{ports['onion']};",
            "server 127.0.0.1:8000;": f"server 127.0.0.1:{ports['web_app']};",
            "server 127.0.0.1:8002;": f"server 127.0.0.1:{ports['onion_app']};",
            "/etc/ssl/portal/fullchain.pem": str(cert),
            "/etc/ssl/portal/privkey.pem": str(key),
            "/var/log/nginx/": f"{logs}/",
        },
    )
    directives = "\n".join(line.partition("#")[0] for line in site.splitlines())
    for path in ("/etc/", "/var/"):  # nothing left that would touch the machine's own files
        assert path not in directives, directives
    (directory / "portal.conf").write_text(site, encoding="utf-8")
    # A stand-in for Debian's /etc/nginx/nginx.conf, left as Debian ships it where it matters:
    # an access log for every site and the error log at level "error". portal.conf has to
    # keep both from recording clients by itself.
    main = f"""
worker_processes 1;
pid {directory}/nginx.pid;
error_log {logs}/error.log error;
events {{ worker_connections 64; }}
http {{
    access_log {logs}/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include portal.conf;
}}
"""
    config = directory / "nginx.conf"
    config.write_text(main, encoding="utf-8")
    return config


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("nginx exited: " + log.read_text(errors="replace"))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nginx did not start")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    _tools()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))}
    data_dir = tmp_path / "data"
    web_log, onion_log = tmp_path / "gunicorn-web.log", tmp_path / "gunicorn-onion.log"
    log = tmp_path / "servers.log"
    # As in docs/operations.md: portal.env + web.env, and portal.env + onion.env.
    web_env = {
        **base,
        "PORTAL_DATA_DIR": str(data_dir),
        "PORTAL_BEHIND_HTTPS": "true",
        "PORTAL_PROXY_HOPS": "1",
        "PORTAL_ONION_ADDRESS": ONION,
        "GUNICORN_CMD_ARGS": f"--access-logfile {web_log} --access-logformat '{FORWARDED_LOG}'",
    }
    onion_env = {
        **base,
        "PORTAL_DATA_DIR": str(data_dir),
        "PORTAL_BEHIND_HTTPS": "false",
        "GUNICORN_CMD_ARGS": f"--access-logfile {onion_log} --access-logformat '{FORWARDED_LOG}'",
    }
    run_cli(web_env, log, "setup", "--recovery-file", str(tmp_path / "recovery.txt"))
    nginx_dir, logs, temp = tmp_path / "nginx", tmp_path / "nginx" / "logs", tmp_path / "temp"
    for directory in (nginx_dir, logs, temp):
        directory.mkdir()
    cert, key = _certificate(tmp_path)
    with contextlib.ExitStack() as cleanup:
        web_app = ServerProcess("gunicorn", web_env, log)
        cleanup.callback(web_app.stop)
        onion_app = ServerProcess("gunicorn", onion_env, log)
        cleanup.callback(onion_app.stop)
        ports = {
            "http": free_port(),
            "https": free_port(),
            "onion": free_port(),
            "web_app": web_app.port,
            "onion_app": onion_app.port,
        }
        config = _nginx_config(nginx_dir, ports, cert, key, logs, temp)
        command = [str(NGINX), "-c", str(config), "-p", str(nginx_dir)]
        checked = subprocess.run(
            [*command, "-t"], capture_output=True, text=True, timeout=60, check=False
        )
        assert checked.returncode == 0, checked.stderr
        assert "test is successful" in checked.stderr
        stderr = tmp_path / "nginx-stderr.log"
        with stderr.open("wb") as err:
            nginx = subprocess.Popen(
                [*command, "-g", "daemon off;"],
                stdout=err,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        cleanup.callback(_stop_nginx, nginx, temp)
        for port in (ports["https"], ports["http"], ports["onion"]):
            _wait_for(port, nginx, stderr)
        # nginx has made its temporary directories; now nothing may write there (not even
        # nginx's workers as root's "nobody", nor as the same user when not root). Any
        # request or response body spooled to disk would fail its request.
        for name in TEMP_DIRS:
            (temp / name).chmod(0)
        yield Stack(
            https=ports["https"],
            http=ports["http"],
            onion=ports["onion"],
            context=ssl.create_default_context(cafile=str(cert)),
            cert=cert,
            nginx_dir=nginx_dir,
            data_dir=data_dir,
            web_log=web_log,
            onion_log=onion_log,
        )


def _stop_nginx(nginx: subprocess.Popen[bytes], temp: Path) -> None:
    if nginx.poll() is None:
        nginx.send_signal(signal.SIGQUIT)  # graceful: workers finish, logs are flushed
        try:
            nginx.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(nginx.pid, signal.SIGKILL)
            nginx.wait(timeout=30)
    for name in TEMP_DIRS:  # so that pytest can remove them
        if (temp / name).exists():
            (temp / name).chmod(0o700)


class HttpsClient(Client):
    """tests.support.http.Client over HTTPS, trusting the throwaway certificate. Every request
    claims to come from SPOOFED, in X-Forwarded-For and X-Real-IP."""

    def __init__(self, base: str, context: ssl.SSLContext) -> None:
        super().__init__(base)
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies),
            urllib.request.HTTPSHandler(context=context),
        )
        self.opener.addheaders = [("X-Forwarded-For", SPOOFED), ("X-Real-IP", SPOOFED)]


def _raw(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    headers: dict[str, str],
    send_body: bool = True,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request by hand: with ``send_body=False`` only the headers go (a Content-Length
    announced but never sent), as a browser's upload starts."""
    try:
        if send_body:
            connection.request(method, path, headers=headers)
        else:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in headers.items():
                connection.putheader(name, value)
            connection.endheaders()
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def _field(client: Client, path: str, fields: dict[str, str | list[str]]) -> str:
    reply = client.post(path, {"csrf_token": client.csrf(path), **fields})
    assert reply.status == 200, (path, reply.status, reply.text[:2000])
    return reply.text


def _body_limit() -> int:
    """client_max_body_size in portal-proxy.conf, in bytes."""
    text = (DEPLOY / "portal-proxy.conf").read_text(encoding="utf-8")
    found = re.search(r"^client_max_body_size (\d+)([kmg]?);", text, re.MULTILINE)
    assert found, "no client_max_body_size in portal-proxy.conf"
    return int(found.group(1)) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[found.group(2)]


def _handshake(
    stack: Stack, maximum: ssl.TLSVersion | None, legacy: bool = False
) -> tuple[str, str]:
    """The TLS version and cipher agreed with a client that offers at most ``maximum``."""
    context = ssl.create_default_context(cafile=str(stack.cert))
    if legacy:  # let this client offer what OpenSSL's defaults refuse, so nginx decides
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    if maximum is not None:
        context.maximum_version = maximum
    with (
        socket.create_connection(("127.0.0.1", stack.https), timeout=30) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        agreed = tls.cipher()
        return str(tls.version()), agreed[0] if agreed else ""


def _files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def test_the_example_nginx_configuration_in_front_of_gunicorn(stack: Stack) -> None:
    https = f"https://127.0.0.1:{stack.https}"

    # --- The home page: the portal's headers once each, HSTS, Onion-Location, no version. ---
    status, headers, body = _raw(
        http.client.HTTPSConnection("127.0.0.1", stack.https, context=stack.context),
        "GET",
        "/",
        {"Accept-Encoding": "gzip", "X-Forwarded-For": SPOOFED},
    )
    assert status == 200
    for name, value in APP_HEADERS.items():
        assert headers.get_all(name) == [value], (name, headers.get_all(name))
    assert headers.get_all("Onion-Location") == [f"http://{ONION}/"]
    assert headers.get_all("Server") == ["nginx"]  # server_tokens off: no version
    assert headers["Content-Encoding"] == "gzip" and body[:2] == b"\x1f\x8b"
    assert "Set-Cookie" not in headers  # the home page sets no cookie
    assert _handshake(stack, None)[0] == "TLSv1.3"
    version, cipher = _handshake(stack, ssl.TLSVersion.TLSv1_2)  # older browsers: TLS 1.2,
    assert version == "TLSv1.2" and cipher.startswith("ECDHE-") and "GCM" in cipher  # with PFS
    # TLS 1.1 and older are refused (Debian's OpenSSL 3 would refuse them without
    # ssl_protocols too, at its default security level).
    with warnings.catch_warnings(), pytest.raises(ssl.SSLError):
        warnings.simplefilter("ignore", DeprecationWarning)
        _handshake(stack, ssl.TLSVersion.TLSv1_1, legacy=True)
    # The staff side is never compressed (BREACH).
    status, headers, _body = _raw(
        http.client.HTTPSConnection("127.0.0.1", stack.https, context=stack.context),
        "GET",
        "/sign-in",
        {"Accept-Encoding": "gzip"},
    )
    assert status == 200 and "Content-Encoding" not in headers

    # --- Port 80 only redirects, to the same path and query on HTTPS. ---
    status, headers, _body = _raw(
        http.client.HTTPConnection("127.0.0.1", stack.http, timeout=30),
        "GET",
        "/report?lang=fr",
        {"Host": SERVER_NAME},
    )
    assert status == 301
    assert headers["Location"] == f"https://{SERVER_NAME}/report?lang=fr"
    assert headers.get_all("Server") == ["nginx"]

    # --- A body over nginx's limit: nginx's 413 at once, from the announced length. ---
    limit = _body_limit()
    portal_limit = Settings(data_dir=stack.data_dir, database_url="sqlite://").max_request_bytes
    assert limit > 4 * portal_limit, "nginx's limit must stay far above PORTAL_MAX_REQUEST_MB"
    status, headers, body = _raw(
        http.client.HTTPSConnection("127.0.0.1", stack.https, context=stack.context),
        "POST",
        "/report/evidence",
        {"Content-Type": "application/octet-stream", "Content-Length": str(limit + 1)},
        send_body=False,
    )
    assert status == 413 and b"413 Request Entity Too Large" in body
    assert "Content-Security-Policy" not in headers  # nginx's own page, not the portal's
    assert headers.get_all("Server") == ["nginx"] and b"nginx/" not in body

    # --- A filing with an attachment, through TLS, with Secure __Host- cookies. ---
    reporter = HttpsClient(https, stack.context)
    _field(reporter, "/report", {})
    _field(reporter, "/report/who", {"filer": "self"})
    _field(reporter, "/report/what", {"what_happened": STORY, "country": "CD"})
    cookies = list(reporter.cookies)
    assert len(cookies) >= 2, [cookie.name for cookie in cookies]  # the form's and the draft's
    for cookie in cookies:
        assert cookie.name.startswith("__Host-") and cookie.secure, cookie
        assert cookie.has_nonstandard_attr("HttpOnly"), cookie

    # Over the portal's limit (but under nginx's): the portal itself answers, with the
    # evidence page in the reporter's language, and the filing carries on.
    status, headers, body = _raw(
        http.client.HTTPSConnection("127.0.0.1", stack.https, context=stack.context),
        "POST",
        "/report/evidence?lang=fr",
        {
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(portal_limit + 1),
            "Cookie": "; ".join(f"{cookie.name}={cookie.value}" for cookie in cookies),
        },
        send_body=False,
    )
    page = body.decode("utf-8")
    assert status == 413, (status, page[:2000])
    assert headers.get_all("Content-Security-Policy") == [CSP]
    assert 'lang="fr"' in page and 'name="attachments"' in page, page[:2000]

    marker = os.urandom(16).hex().encode()
    attachment = (marker + os.urandom(1024)) * 300  # about 300 KiB: far over every buffer
    reply = reporter.post(
        "/report/evidence",
        {"csrf_token": reporter.csrf("/report/evidence"), "action": "continue"},
        [("attachments", "quarry-gate.bin", attachment, "application/octet-stream")],
    )
    assert reply.status == 200 and "Check your answers" in reply.text, reply.text[:2000]
    assert "quarry-gate.bin" in reply.text and STORY in reply.text
    sent = reporter.post("/report/send", {"csrf_token": reporter.csrf("/report/check")})
    receipt = re.search(r'id="receipt">([0-9 ]+)<', sent.text)
    assert receipt, sent.text[:2000]
    follower = HttpsClient(https, stack.context)
    opened = follower.post(
        "/follow-up", {"csrf_token": follower.csrf("/follow-up"), "receipt": receipt.group(1)}
    )
    assert opened.status == 200 and "Your complaint" in opened.text, opened.text[:2000]
    stored = _files_under(stack.data_dir / "files")
    assert len(stored) == 1 and stored[0].stat().st_size >= len(attachment)

    # --- The onion block: plain HTTP, no HSTS, no Onion-Location, cookies without Secure. ---
    status, headers, _body = _raw(
        http.client.HTTPConnection("127.0.0.1", stack.onion, timeout=30),
        "GET",
        "/report",
        {"Host": ONION, "X-Forwarded-For": SPOOFED, "X-Forwarded-Proto": "https"},
    )
    assert status == 200
    assert "Strict-Transport-Security" not in headers and "Onion-Location" not in headers
    assert headers.get_all("Content-Security-Policy") == [CSP]
    onion_cookies = headers.get_all("Set-Cookie") or []
    assert onion_cookies and all(
        not cookie.startswith("__Host-") and "Secure" not in cookie for cookie in onion_cookies
    ), onion_cookies

    # --- What the portal was told: the address nginx saw, never what the client claimed. ---
    time.sleep(0.5)  # gunicorn's access log is written after each response
    web_lines = stack.web_log.read_text(encoding="utf-8").splitlines()
    through_nginx = [line for line in web_lines if "xff=-" not in line]
    assert len(through_nginx) >= 10, web_lines  # the start-up probe came straight
    for line in through_nginx:
        assert line.endswith("xff=127.0.0.1 proto=https"), line
    onion_lines = stack.onion_log.read_text(encoding="utf-8").splitlines()
    assert any(" /report " in line for line in onion_lines), onion_lines
    for line in onion_lines:
        assert line.endswith("xff=- proto=-"), line

    # --- Nothing spooled, nothing logged about clients. ---
    for path in _files_under(stack.nginx_dir) + _files_under(stack.data_dir):
        assert marker not in path.read_bytes(), path
    nginx_logs = _files_under(stack.nginx_dir / "logs")
    assert {path.name for path in nginx_logs} >= {"access.log", "error.log", "portal-error.log"}
    for path in nginx_logs:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert "127.0.0.1" not in text and SPOOFED not in text, (path, text[:2000])
    assert (stack.nginx_dir / "logs" / "access.log").stat().st_size == 0
