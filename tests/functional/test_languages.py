"""Choosing the language: ?lang, then Accept-Language, then the default; the choice carried by
every link and form without a cookie, the language menu, and the onion address when there is one.

Assertions read structure (attributes, links, headers) or English text only: the catalogs of
the other languages are being written and may change at any time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from portal import create_app
from portal.models import Case
from tests.support.filing import DEFAULT_ANSWERS, RECEIPT, begin, token_from

SIX = ("en", "fr", "es", "ar", "sw", "pt")
NAMES = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "ar": "العربية",
    "sw": "Kiswahili",
    "pt": "Português",
}
ONION = "fixmeabcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst.onion"


class Page(HTMLParser):
    """The <html> attributes, every link and form, and the text of each link."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.html: dict[str, str | None] = {}
        self.links: list[dict[str, str | None]] = []
        self.forms: list[dict[str, str | None]] = []
        self.link_text: list[str] = []
        self._in_link = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        if tag == "html":
            self.html = dict(attrs)
        elif tag == "a":
            self.links.append(dict(attrs))
            self.link_text.append("")
            self._in_link = True
        elif tag == "form":
            self.forms.append(dict(attrs))

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag == "a":
            self._in_link = False

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self._in_link:
            self.link_text[-1] += data

    def local_urls(self) -> list[str]:
        """Links (other than the language menu's) and form actions inside the site."""
        urls = [a["href"] for a in self.links if "hreflang" not in a] + [
            f["action"] for f in self.forms
        ]
        return [u for u in urls if u and u.startswith("/") and not u.startswith("/assets/")]


def lang_of(url: str) -> list[str]:
    return parse_qs(urlsplit(url).query).get("lang", [])


def app_with(portal, **changes):  # type: ignore[no-untyped-def]
    return create_app(dataclasses.replace(portal.settings, **changes))


@pytest.fixture
def multilingual(portal) -> Iterator[FlaskClient]:  # type: ignore[no-untyped-def]
    """A client of the portal with all six languages switched on."""
    app = app_with(portal, languages=SIX)
    yield app.test_client()
    app.extensions["portal_db"].dispose()


def page(client: FlaskClient, path: str, **headers: str) -> Page:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, (path, response.status_code)
    return Page(response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("lang", "direction"), [("en", "ltr"), ("fr", "ltr"), ("sw", "ltr"), ("ar", "rtl")]
)
def test_lang_in_the_address_sets_the_page_language_and_direction(multilingual, lang, direction):
    assert page(multilingual, f"/?lang={lang}").html == {"lang": lang, "dir": direction}


def test_accept_language_chooses_when_the_address_does_not(multilingual):
    chosen = page(multilingual, "/", **{"Accept-Language": "ar,en;q=0.5"})
    assert chosen.html == {"lang": "ar", "dir": "rtl"}


def test_lang_in_the_address_wins_over_accept_language(multilingual):
    chosen = page(multilingual, "/?lang=fr", **{"Accept-Language": "ar,en;q=0.5"})
    assert chosen.html == {"lang": "fr", "dir": "ltr"}


def test_an_unknown_lang_falls_back_to_accept_language_then_the_default(multilingual):
    assert page(multilingual, "/?lang=xx", **{"Accept-Language": "es"}).html["lang"] == "es"
    assert page(multilingual, "/?lang=xx").html == {"lang": "en", "dir": "ltr"}
    assert page(multilingual, "/?lang=de", **{"Accept-Language": "de"}).html["lang"] == "en"


def test_a_language_that_is_not_switched_on_is_neither_used_nor_offered(portal):
    app = app_with(portal, languages=("en", "fr"))
    try:
        client = app.test_client()
        assert page(client, "/?lang=ar", **{"Accept-Language": "ar"}).html["lang"] == "en"
        menu = [a["hreflang"] for a in page(client, "/?lang=fr").links if "hreflang" in a]
    finally:
        app.extensions["portal_db"].dispose()
    assert menu == ["en", "fr"]


def test_the_language_menu_names_each_language_in_its_own_script(multilingual):
    shown = page(multilingual, "/staying-safe?lang=sw")
    menu = [
        (attrs, text.strip())
        for attrs, text in zip(shown.links, shown.link_text, strict=True)
        if "hreflang" in attrs
    ]
    assert [text for _, text in menu] == [NAMES[code] for code in SIX]
    for (attrs, _), code in zip(menu, SIX, strict=True):
        assert attrs["lang"] == attrs["hreflang"] == code
        assert urlsplit(attrs["href"]).path == "/staying-safe"
        assert lang_of(attrs["href"]) == [code]
    assert [attrs.get("aria-current") for attrs, _ in menu] == [None] * 4 + ["true", None]


def swahili_pages(client: FlaskClient) -> Iterator[tuple[str, Page]]:
    """Every public page a reporter meets, rendered with ?lang=sw."""
    for path in ("/", "/report", "/staying-safe", "/follow-up"):
        yield path, page(client, f"{path}?lang=sw")
    yield "answers cleared", page(client, "/report/who?lang=sw")  # no draft yet
    begin(client, lang="sw")
    for step in ("who", "what", "safety", "remedy", "contact", "evidence"):
        yield step, page(client, f"/report/{step}?lang=sw")
    token = token_from(client, "/report/what?lang=sw")
    client.post("/report/what?lang=sw", data={**DEFAULT_ANSWERS["what"], "csrf_token": token})
    yield "check", page(client, "/report/check?lang=sw")
    sent = client.post("/report/send?lang=sw", data={"csrf_token": token})
    html = sent.get_data(as_text=True)
    yield "receipt", Page(html)
    receipt = RECEIPT.search(html).group(1)
    finish = {"csrf_token": token, "receipt": receipt, "written_down": "yes"}
    yield (
        "finished",
        Page(client.post("/report/finish?lang=sw", data=finish).get_data(as_text=True)),
    )
    opened = client.post("/follow-up?lang=sw", data={"csrf_token": token, "receipt": receipt})
    yield "follow-up case", page(client, opened.headers["Location"])
    yield "withdraw", page(client, "/follow-up/withdraw?lang=sw")


def test_every_link_and_form_on_a_swahili_page_keeps_swahili(multilingual):
    seen = 0
    for name, shown in swahili_pages(multilingual):
        assert shown.html["lang"] == "sw", name
        urls = shown.local_urls()
        assert urls, name
        assert [url for url in urls if lang_of(url) != ["sw"]] == [], name
        seen += 1
    assert seen == 16


def follow_the_filing(client: FlaskClient, start: str) -> str:
    """File a complaint using only the addresses the pages and redirects give; the receipt."""
    location = start
    for step in ("start", "who", "what", "safety", "remedy", "contact", "evidence", "check"):
        shown = page(client, location)
        (form,) = [f for f in shown.forms if f.get("method") == "post"]
        data: dict = {"csrf_token": token_from(client, location)}
        data.update(DEFAULT_ANSWERS.get(step, {}))
        if step == "evidence":
            data["action"] = "continue"
        response = client.post(form["action"], data=data)
        if step == "check":
            assert response.status_code == 200
            return RECEIPT.search(response.get_data(as_text=True)).group(1)
        assert response.status_code == 302, (step, response.status_code)
        location = response.headers["Location"]
        assert lang_of(location) == ["pt"], (step, location)
    raise AssertionError("the filing never reached its receipt")


def test_the_chosen_language_lasts_through_the_whole_filing(portal, multilingual):
    follow_the_filing(multilingual, "/report?lang=pt")
    with portal.db as db:
        assert db.scalars(select(Case.language)).all() == ["pt"]


def test_accept_language_alone_is_recorded_on_the_case(portal, multilingual):
    multilingual.environ_base["HTTP_ACCEPT_LANGUAGE"] = "pt-BR,pt;q=0.9"
    follow_the_filing(multilingual, "/report")
    with portal.db as db:
        assert db.scalars(select(Case.language)).all() == ["pt"]


# The onion address


def test_onion_location_is_sent_and_shown_when_an_onion_address_is_set(portal):
    app = app_with(portal, onion_address=ONION)
    try:
        response = app.test_client().get("/staying-safe?lang=en")
    finally:
        app.extensions["portal_db"].dispose()
    assert response.headers["Onion-Location"] == f"http://{ONION}/staying-safe?lang=en"
    assert ONION in response.get_data(as_text=True)


def test_no_onion_location_without_an_onion_address(client):
    response = client.get("/staying-safe")
    assert "Onion-Location" not in response.headers
    assert ".onion" not in response.get_data(as_text=True)
    assert "With Tor Browser, use this address" not in response.get_data(as_text=True)
