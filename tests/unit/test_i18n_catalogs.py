"""The gettext catalogs are complete: every message the code and templates say is in
messages.pot, translated (not fuzzy) with the same placeholders in each shipped catalog,
and compiled: the .mo the service loads says what the .po says."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from bot.flows import load_flows
from core.i18n import TRANSLATIONS, catalog_locale, say, shipped_locales

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("es", "pt_BR")
FOLDERS = ("attachments", "bot", "core", "handoff", "satisfaction", "tickets")  # as `make translations`
KEYWORDS = {"_": None, "gettext": None, "N_": None, "say": (2,), "default_texts": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)s|\{(\w+)\}")


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=locale)


def ids(catalog: Catalog) -> set[str]:
    return {str(message.id) for message in catalog if message.id}


def placeholders(text: str) -> set[str]:
    return {a or b for a, b in PLACEHOLDER.findall(text)}


def problems(template: Catalog, catalog: Catalog) -> list[str]:
    """What a catalog lacks or gets wrong against the template (messages.pot)."""
    found = []
    for msgid in sorted(ids(template)):
        message = catalog.get(msgid)
        if message is None or not message.string:
            found.append(f"untranslated: {msgid!r}")
        elif message.fuzzy:
            found.append(f"fuzzy: {msgid!r}")
        elif placeholders(msgid) != placeholders(str(message.string)):
            found.append(f"placeholders differ: {msgid!r} -> {message.string!r}")
    return found


def test_every_shipped_locale_has_a_compiled_catalog() -> None:
    assert set(SHIPPED) <= set(shipped_locales())
    for locale in load_flows(ROOT / "config" / "flows.yaml").locales:
        assert catalog_locale(locale) == locale, f"{locale} is in the flows file but has no catalog"


def test_the_template_holds_every_message_the_code_and_templates_say() -> None:
    method_map = [("**/templates/**.html", "jinja2"), ("**/templates/**.txt", "jinja2"), ("**.py", "python")]
    said: set[str] = set()
    for folder in FOLDERS:
        for _file, _line, message, _comments, _context in extract_from_dir(
                ROOT / folder, method_map, keywords=KEYWORDS):
            said.add(message if isinstance(message, str) else message[0])
    template = read_catalog(TRANSLATIONS / "messages.pot")
    assert said - ids(template) == set(), "new texts: run `make translations` and translate them"
    assert ids(template) - said == set(), "texts no longer said: run `make translations`"


def test_no_text_hides_from_extraction_inside_an_f_string() -> None:
    """pybabel reads an f-string as one token: a say() inside it would never be translated."""
    template = ids(read_catalog(TRANSLATIONS / "messages.pot"))
    for folder in FOLDERS:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "say"
                        and len(node.args) > 1 and isinstance(node.args[1], ast.Constant)):
                    assert node.args[1].value in template, f"{path}:{node.lineno}"


@pytest.mark.parametrize("locale", SHIPPED)
def test_each_catalog_translates_every_message_with_its_placeholders(locale: str) -> None:
    template = read_catalog(TRANSLATIONS / "messages.pot")
    catalog = read_catalog(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", locale)
    assert problems(template, catalog) == []


@pytest.mark.parametrize("locale", SHIPPED)
def test_the_compiled_catalog_says_what_the_po_says(locale: str) -> None:
    folder = TRANSLATIONS / locale / "LC_MESSAGES"
    source = {str(m.id): str(m.string) for m in read_catalog(folder / "messages.po", locale)
              if m.id and not m.fuzzy}
    with (folder / "messages.mo").open("rb") as file:
        compiled = {str(m.id): str(m.string) for m in read_mo(file) if m.id}
    assert compiled == source, "the .mo is stale: run `make translations` (pybabel compile)"


def test_a_missing_fuzzy_or_mangled_translation_is_reported() -> None:
    template = read_catalog(TRANSLATIONS / "messages.pot")
    catalog = read_catalog(TRANSLATIONS / "pt_BR" / "LC_MESSAGES" / "messages.po", "pt_BR")
    catalog.delete("Resolve #{number}")
    catalog["View ticket"].flags.add("fuzzy")
    catalog["Ticket #{number} is resolved. Thank you!"].string = "O ticket está resolvido."
    assert problems(template, catalog) == [
        "untranslated: 'Resolve #{number}'",
        "placeholders differ: 'Ticket #{number} is resolved. Thank you!' -> 'O ticket está resolvido.'",
        "fuzzy: 'View ticket'",
    ]


def test_a_locale_without_a_catalog_speaks_english_and_a_regional_one_its_language() -> None:
    assert say("fr_FR", "View ticket") == "View ticket"
    assert say("pt_PT", "View ticket") == say("pt_BR", "View ticket") == "Ver ticket"
    assert say("es_LA", "Ticket #{number}: is it solved?", number=4) == "Ticket #4: ¿está resuelto?"
