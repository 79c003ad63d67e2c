"""Clicking through the public filing by structure (names and values), in any language."""

from __future__ import annotations

import re
from typing import Any

DEFAULTS: dict[str, dict[str, Any]] = {
    "who": {"filer": "self"},
    "what": {
        "what_happened": "Guards fired at the crowd near the river.",
        "topics": ["use_of_force"],
        "when_year": "2026",
        "country": "NG",
        "place": "River crossing by the camp",
        "company": "other",
        "company_other": "Delta Shield",
        "people_affected": "6-20",
        "children": "yes",
    },
    "safety": {"danger_now": "no", "fear": "They know my village."},
    "remedy": {"remedies": ["compensation", "apology"], "remedy_words": "Pay the clinic bills."},
    "contact": {"contact_mode": "anonymous"},
}


def fill_step(page, values: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    for name, value in values.items():
        if isinstance(value, list):
            for item in value:
                page.check(f"input[name={name}][value='{item}']")
            continue
        field = page.locator(f"[name={name}]").first
        kind = field.get_attribute("type")
        if kind == "radio":
            page.check(f"input[name={name}][value='{value}']")
        elif page.locator(f"select[name={name}]").count():
            page.select_option(f"select[name={name}]", str(value))
        else:
            field.fill(str(value))


def press_continue(page) -> None:  # type: ignore[no-untyped-def]
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state("load")


def file_through_the_browser(
    page,  # type: ignore[no-untyped-def]
    base: str,
    lang: str,
    answers: dict[str, dict[str, Any]] | None = None,
    files: list[dict[str, Any]] | None = None,
    on_page=None,  # type: ignore[no-untyped-def]
) -> str:
    """File a complaint clicking as a person would; returns the receipt shown."""
    steps = {step: dict(values) for step, values in DEFAULTS.items()}
    for step, values in (answers or {}).items():
        steps[step].update(values)
    seen = on_page or (lambda _page, _name: None)
    page.goto(f"{base}/?lang={lang}")
    seen(page, "home")
    page.locator("a.button").first.click()  # make a complaint
    seen(page, "start")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("load")
    for step in ("who", "what", "safety", "remedy", "contact"):
        assert re.search(rf"/report/{step}\b", page.url), page.url
        seen(page, step)
        fill_step(page, steps[step])
        press_continue(page)
    assert "/report/evidence" in page.url, page.url
    seen(page, "evidence")
    if files:
        page.set_input_files("input[type=file]", files=files)
    page.locator("button[value=continue]").click()
    assert "/report/check" in page.url, page.url
    seen(page, "check")
    page.locator("form[action*='/report/send'] button").click()
    seen(page, "receipt")
    return page.locator("#receipt").inner_text().strip()
