"""The template catalog matches the code, and every language catalog is complete."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "translations" / "messages.pot"


def _ids(path: Path) -> set[tuple[object, str | None]]:
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {(message.id, message.context) for message in catalog if message.id}


def test_template_catalog_is_not_stale(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "--no-location",
            "-o",
            str(fresh),
            ".",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    missing = _ids(fresh) - _ids(TEMPLATE)
    obsolete = _ids(TEMPLATE) - _ids(fresh)
    assert not missing, (
        f"messages.pot lacks strings; run `make messages`: {sorted(map(str, missing))[:5]}"
    )
    assert not obsolete, (
        f"messages.pot has stale strings; run `make messages`: {sorted(map(str, obsolete))[:5]}"
    )


def test_every_language_catalog_translates_every_string() -> None:
    expected = _ids(TEMPLATE)
    for po_path in sorted(ROOT.glob("translations/*/LC_MESSAGES/messages.po")):
        with po_path.open("rb") as handle:
            catalog = read_po(handle)
        present = {
            (m.id, m.context)
            for m in catalog
            if m.id
            and not m.fuzzy
            and (all(m.string) if isinstance(m.string, (list, tuple)) else m.string)
        }
        fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
        assert not fuzzy, f"{po_path}: fuzzy entries {fuzzy[:3]}"
        assert expected <= present, (
            f"{po_path}: untranslated {sorted(map(str, expected - present))[:3]}"
        )


_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def test_translations_keep_every_placeholder() -> None:
    for po_path in sorted(ROOT.glob("translations/*/LC_MESSAGES/messages.po")):
        with po_path.open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            expected = set(_PLACEHOLDER.findall(ids[-1]))
            for string in strings:
                if string:
                    found = set(_PLACEHOLDER.findall(string))
                    # A singular form may spell the number out; it must not invent placeholders.
                    assert found <= expected and (found == expected or len(ids) > 1), (
                        f"{po_path}: {ids[0]!r} -> {string!r}"
                    )
