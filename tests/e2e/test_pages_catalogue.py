"""The pages' translations and package data: every Chinese string in a template has its
English translation, the committed .mo is the compiled .po, and a non-editable install
carries templates, static files and catalogues (pyproject's package data)."""

from __future__ import annotations

import fnmatch
import io
import tomllib
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).parents[2]
PAGES = ROOT / "adapters" / "pages"
PO = PAGES / "locales" / "en" / "LC_MESSAGES" / "messages.po"


def _template_ids() -> set[str]:
    found = extract_from_dir(str(PAGES), method_map=[("templates/**.html", "jinja2")])
    return {message for _, _, message, _, _ in found}


def test_every_template_string_has_an_english_translation() -> None:
    catalogue = read_po(PO.open("rb"))
    ids = _template_ids()
    assert len(ids) > 100
    missing = sorted(i for i in ids if not (catalogue.get(i) and catalogue.get(i).string))
    assert not missing, f"untranslated: {missing} (see docs/pages.md, Translations)"


def test_committed_mo_is_the_compiled_po() -> None:
    compiled = io.BytesIO()
    write_mo(compiled, read_po(PO.open("rb")))
    compiled.seek(0)
    fresh = {m.id: m.string for m in read_mo(compiled) if m.id}
    committed = {m.id: m.string for m in read_mo(PO.with_suffix(".mo").open("rb")) if m.id}
    assert committed == fresh


def test_package_data_ships_every_non_python_file_of_the_pages() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["adapters"]
    shipped = [p for p in PAGES.rglob("*") if p.is_file() and p.suffix != ".py"
               and "__pycache__" not in p.parts]
    assert shipped
    for path in shipped:
        relative = path.relative_to(ROOT / "adapters").as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative
