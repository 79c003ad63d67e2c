"""A tampered attachment is never delivered as if it were whole.

The download is streamed and decrypted chunk by chunk. When a chunk fails authentication the
server aborts the connection, so the client receives less than the announced Content-Length
instead of a response that ends cleanly.
"""

from __future__ import annotations

import http.client
import os
import re

import pytest

from crypto.files import CIPHER_CHUNK_BYTES
from tests.conftest import sign_in
from tests.functional.test_slice import CASE_LINK, FILE_LINK
from tests.support.filing import file_complaint


@pytest.fixture
def tampered_download(portal, client, live_server):  # type: ignore[no-untyped-def]
    portal.account("cw@example.org")
    content = os.urandom(5 * 65536 + 100)
    file_complaint(client, files=[("evidence.bin", content)])
    staff = portal.app.test_client()
    sign_in(staff, "cw@example.org")
    case_path = CASE_LINK.search(staff.get("/caseworker/cases").get_data(as_text=True)).group(1)
    file_path = FILE_LINK.search(staff.get(case_path).get_data(as_text=True)).group(1)
    stored = next((portal.data_dir.files).rglob("*"))
    while stored.is_dir():
        stored = next(stored.iterdir())
    data = bytearray(stored.read_bytes())
    data[1 + 24 + 3 * CIPHER_CHUNK_BYTES + 10] ^= 0x01  # inside the fourth chunk
    stored.write_bytes(bytes(data))
    cookie = staff.get_cookie("staff")
    return live_server, file_path, cookie.value, content


def test_a_tampered_chunk_cuts_the_download_short(tampered_download):
    base, path, cookie, content = tampered_download
    host, port = re.match(r"http://([^:]+):(\d+)", base).groups()
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("GET", path, headers={"Cookie": f"staff={cookie}"})
    response = connection.getresponse()
    assert response.status == 200
    assert int(response.headers["Content-Length"]) == len(content)
    with pytest.raises(http.client.IncompleteRead) as cut:
        response.read()
    received = cut.value.partial
    assert len(received) < len(content)
    assert received == content[: len(received)]  # what arrived before the bad chunk is genuine
    connection.close()
