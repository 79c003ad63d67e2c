"""Walking the public filing with Flask's test client, step by step, as a browser would."""

from __future__ import annotations

import io
import re
from typing import Any

from flask.testing import FlaskClient

RECEIPT = re.compile(r'id="receipt">([0-9 ]+)<')
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')

DEFAULT_ANSWERS: dict[str, dict[str, Any]] = {
    "who": {"filer": "self"},
    "what": {
        "what_happened": "They beat him at the gate",
        "topics": ["use_of_force"],
        "when_text": "March",
        "country": "CD",
        "place": "North gate",
        "company": "other",
        "company_other": "Acme Guards",
        "people_affected": "1",
    },
    "safety": {"danger_now": "no", "fear": ""},
    "remedy": {"remedies": ["compensation"], "remedy_words": ""},
    "contact": {"contact_mode": "anonymous"},
}


def token_from(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    match = _CSRF.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def begin(client: FlaskClient, lang: str | None = None) -> None:
    query = f"?lang={lang}" if lang else ""
    token = token_from(client, f"/report{query}")
    response = client.post(f"/report{query}", data={"csrf_token": token})
    assert response.status_code == 302, response.status_code


def answer(client: FlaskClient, step: str, data: dict[str, Any], lang: str | None = None) -> Any:
    query = f"?lang={lang}" if lang else ""
    token = token_from(client, f"/report/{step}{query}")
    return client.post(f"/report/{step}{query}", data={"csrf_token": token, **data})


def add_files(client: FlaskClient, files: list[tuple[str, bytes]], action: str = "continue") -> Any:
    token = token_from(client, "/report/evidence")
    data = {
        "csrf_token": token,
        "action": action,
        "attachments": [(io.BytesIO(content), name) for name, content in files],
    }
    return client.post("/report/evidence", data=data, content_type="multipart/form-data")


def send(client: FlaskClient, lang: str | None = None) -> str:
    query = f"?lang={lang}" if lang else ""
    token = token_from(client, f"/report/check{query}")
    response = client.post(f"/report/send{query}", data={"csrf_token": token})
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    match = RECEIPT.search(response.get_data(as_text=True))
    assert match, "no receipt on the page"
    return match.group(1)


def file_complaint(
    client: FlaskClient,
    text: str = "They beat him at the gate",
    files: list[tuple[str, bytes]] | tuple[()] = (),
    answers: dict[str, dict[str, Any]] | None = None,
    lang: str | None = None,
) -> str:
    """File a whole complaint; return the receipt as shown (five groups of four digits)."""
    begin(client, lang)
    steps = {step: dict(values) for step, values in DEFAULT_ANSWERS.items()}
    steps["what"]["what_happened"] = text
    for step, values in (answers or {}).items():
        steps.setdefault(step, {}).update(values)
    for step in ("who", "what", "safety", "remedy", "contact"):
        response = answer(client, step, steps[step], lang)
        assert response.status_code == 302, (step, response.get_data(as_text=True)[:3000])
    response = add_files(client, list(files))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return send(client, lang)
