"""Compiling the translation catalogs (``.po`` to ``.mo``), so a fresh checkout speaks every
language after ``setup`` without a separate build step."""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def compile_catalogs(directory: Path = TRANSLATIONS) -> list[str]:
    """Write each locale's ``messages.mo`` when it is missing or older than its ``.po``."""
    compiled = []
    for po_path in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as source:
            catalog = read_po(source, locale=po_path.parent.parent.name)
        temporary = mo_path.with_suffix(".mo.tmp")
        with temporary.open("wb") as target:
            write_mo(target, catalog)
        temporary.replace(mo_path)  # atomic: a running server never reads half a catalog
        compiled.append(po_path.parent.parent.name)
    return compiled
