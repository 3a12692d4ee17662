"""The flows file: schema, loader (file:line problems), keyword matching, live reload, CLI."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from ruamel.yaml import YAML

from bot.flows import Flow, Flows, FlowsError, FlowsStore, Menu, Problem, load_flows, normalize
from bot.flows import text as text_module
from bot.flows.cli import flows_cli

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config" / "flows.yaml"
DATA = ROOT / "tests" / "data" / "flows"

# Line numbers matter: tests below assert them.
BASE = """\
default_locale: en
locales: [en, es]
greeting:
  en: "Hi {first_name}!"
  es: "¡Hola {first_name}!"
menu:
  text: {en: "Pick a topic:", es: "Elige un tema:"}
  items: [billing, restart]
fallback: {en: "Sorry.", es: "Perdona."}
flows:
  billing:
    title: {en: Billing, es: Facturación}
    keywords: {en: [billing, payment], es: [factura, pago]}
    messages:
      - text: {en: "We can help.", es: "Te ayudamos."}
      - text: {en: "Manage invoices:", es: "Gestiona tus facturas:"}
        buttons:
          - title: {en: Billing portal, es: Portal de pagos}
            url: https://example.com/billing
          - title: {en: Refunds, es: Reembolsos}
            goto: refunds
    quick_replies: [refunds, restart]
  refunds:
    title: {en: Refunds, es: Reembolsos}
    keywords: {en: [refund], es: [reembolso, devolver el pago]}
    messages:
      - text: {en: "Refunds take 5 days.", es: "Los reembolsos tardan 5 días."}
  restart:
    title: {en: Restart, es: Reiniciar}
    keywords: {en: [restart, start over, menu, help], es: [reiniciar, empezar, menu]}
    action: restart
"""


# --- helpers ---


def edit(old: str, new: str, base: str = BASE) -> str:
    assert base.count(old) == 1, f"{old!r} must appear exactly once"
    return base.replace(old, new)


def write(directory: Path, text: str, name: str = "flows.yaml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(directory: Path, text: str) -> list[Problem]:
    path = write(directory, text)
    with pytest.raises(FlowsError) as caught:
        load_flows(path)
    return caught.value.problems


def only_problem(directory: Path, text: str) -> Problem:
    found = problems(directory, text)
    assert len(found) == 1, found
    return found[0]


def base_flows(directory: Path) -> Flows:
    return load_flows(write(directory, BASE, "base.yaml"))


# --- the shipped file ---


def test_shipped_file_loads_with_english_spanish_and_portuguese() -> None:
    flows = load_flows(SHIPPED)
    assert flows.locales == ("en", "es", "pt_BR")
    assert {"billing", "technical", "account", "hours", "live_agent", "restart"} <= set(flows.menu.items)
    for flow_id in ("refunds", "invoices", "password_reset", "app_not_working", "delete_account"):
        assert flows.flow(flow_id).messages


def test_shipped_file_has_no_actions_that_are_not_built_yet() -> None:
    from bot.extensions import action_handlers

    actions = {flow.action for flow in load_flows(SHIPPED).flows.values()} - {None}
    assert actions <= set(action_handlers())


def test_shipped_file_answers_typical_questions() -> None:
    flows = load_flows(SHIPPED)
    asked = {
        ("I forgot my password", "en"): "password_reset",
        ("¿Dónde está mi factura?", "es"): "invoices",
        ("la app no funciona", "es"): "app_not_working",
        ("I want to delete my account", "en"): "delete_account",
        ("Horario?", "es"): "hours",
        ("Esqueci minha senha", "pt_BR"): "password_reset",
        ("Cadê a minha nota fiscal?", "pt_BR"): "invoices",
        ("Quero falar com um atendente", "pt_BR"): "live_agent",
    }
    for (typed, locale), flow_id in asked.items():
        assert (found := flows.match(typed, locale)) is not None and found.id == flow_id, typed


# --- a good file ---


def test_base_file_loads_into_frozen_records(tmp_path: Path) -> None:
    flows = base_flows(tmp_path)
    assert flows.source == str(tmp_path / "base.yaml")
    assert flows.flow("billing").id == "billing"
    assert flows.flow("billing").messages[1].buttons[1].goto == "refunds"
    assert flows.flow("billing").keywords["es"] == ("factura", "pago")
    assert flows.title("billing", "es") == "Facturación"
    with pytest.raises(ValidationError):
        flows.flow("billing").action = "restart"  # type: ignore[misc]
    with pytest.raises(KeyError):
        flows.flow("nope")


def test_text_falls_back_to_the_default_locale(tmp_path: Path) -> None:
    flows = base_flows(tmp_path)
    assert flows.text({"en": "Hello", "es": "Hola"}, "es") == "Hola"
    assert flows.text({"en": "Hello"}, "fr") == "Hello"


@pytest.mark.parametrize(
    ("messenger_locale", "locale"),
    [
        ("es_LA", "es"),
        ("es_ES", "es"),
        ("es", "es"),
        ("en_US", "en"),
        ("en_GB", "en"),
        ("fr_FR", "en"),
        ("es-MX", "es"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_locale_for(tmp_path: Path, messenger_locale: str | None, locale: str) -> None:
    assert base_flows(tmp_path).locale_for(messenger_locale) == locale


def test_long_plain_messages_are_allowed(tmp_path: Path) -> None:
    long_text = "x" * 2500
    load_flows(write(tmp_path, edit('"Refunds take 5 days."', f'"{long_text}"')))


def test_models_built_in_code_are_checked_too() -> None:
    restart = Flow(id="restart", title={"en": "Restart"}, action="restart")
    with pytest.raises(ValidationError, match='no flow named "billing"'):
        Flows(
            default_locale="en",
            locales=("en",),
            greeting={"en": "Hi"},
            menu=Menu(text={"en": "Pick:"}, items=("billing",)),
            fallback={"en": "Sorry"},
            flows={"restart": restart},
        )


# --- problems, with file and line ---


def test_the_21_character_spanish_title_is_refused(tmp_path: Path) -> None:
    text = edit("es: Facturación}", "es: Chatear con un humano}")
    problem = only_problem(tmp_path, text)
    assert str(problem) == (
        f"{tmp_path / 'flows.yaml'}:12: flows.billing.title.es: "
        '"Chatear con un humano" is 21 characters; quick-reply titles allow at most 20'
    )


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        (
            "Billing portal, es",
            "A very long button title, es",
            18,
            'flows.billing.messages[1].buttons[0].title.en: "A very long button title" is 24 '
            "characters; button titles allow at most 20",
        ),
        (
            '"Manage invoices:"',
            '"' + "m" * 641 + '"',
            16,
            "is 641 characters; texts of messages with buttons allow at most 640",
        ),
        ('"Hi {first_name}!"', '"' + "h" * 150 + ' {first_name}"', 4, "the greeting is 170 characters"),
        ('"Hi {first_name}!"', '"Hi {name}!"', 4, "braces may only hold the placeholder {first_name}"),
        ("https://example.com/billing", "ftp://example.com/billing", 19, "is not an http:// or https://"),
        (
            "goto: refunds",
            "goto: refundz",
            21,
            'flows.billing.messages[1].buttons[1].goto: no flow named "refundz" (did you mean "refunds"?)',
        ),
        (
            "items: [billing, restart]",
            "items: [billing, restart, nope]",
            8,
            'menu.items[2]: no flow named "nope"',
        ),
        ("items: [billing, restart]", "items: []", 8, "menu.items: the menu needs at least one item"),
        (
            "quick_replies: [refunds, restart]",
            "quick_replies: [refunds, refunds]",
            22,
            'flows.billing.quick_replies[1]: "refunds" is listed twice',
        ),
        (
            "    action: restart",
            "    action: restartt",
            31,
            'flows.restart.action: unknown action "restartt"; allowed: live_agent, resume_bot, '
            "restart, create_ticket",
        ),
        (
            "    action: restart",
            "    action_: restart",
            31,
            "flows.restart.action_: unknown key; allowed here: title, keywords, action, messages, "
            "quick_replies",
        ),
        (
            "    action: restart",
            "    quick_replies: [billing]",
            28,
            "flows.restart: a flow needs messages, an action, or both",
        ),
        (
            "default_locale: en",
            "default_locale: fr",
            1,
            'default_locale: "fr" is not one of the locales (en, es)',
        ),
        ("locales: [en, es]", "locales: [en, es, en]", 2, 'locales[2]: "en" is listed twice'),
        (
            '"Refunds take 5 days.", es: "Los reembolsos tardan 5 días."',
            '"Refunds take 5 days."',
            27,
            'flows.refunds.messages[0].text: missing the "es" translation',
        ),
        (
            "es: [reiniciar, empezar, menu]}",
            "es: [reiniciar, empezar, menu], sp: [otra]}",
            30,
            'flows.restart.keywords.sp: "sp" is not one of the locales (en, es)',
        ),
        (
            "{en: Restart, es: Reiniciar}",
            "{en: Restart, es: Reiniciar, fr: Redémarrer}",
            29,
            'flows.restart.title.fr: "fr" is not one of the locales (en, es)',
        ),
        (
            "es: [reembolso,",
            "es: [pago, reembolso,",
            25,
            'flows.refunds.keywords.es[0]: keyword "pago" is already a keyword of flow "billing"',
        ),
        ("es: [reembolso,", "es: [Pagó!, reembolso,", 25, 'keyword "Pagó!" is already a keyword'),
        ("es: [reembolso,", 'es: ["¿?", reembolso,', 25, 'keyword "¿?" has no letters or digits'),
        (
            "  refunds:\n",
            "  Refunds-Help:\n",
            23,
            'flows.Refunds-Help: "Refunds-Help" is not a flow id: use 1 to 64 of a-z, 0-9 and _',
        ),
        ("es: Reiniciar}", "es: ''}", 29, "flows.restart.title.es: must not be empty"),
        (
            "fallback: {en",
            "colour: red\nfallback: {en",
            9,
            "colour: unknown key; allowed here: default_locale, locales, greeting, menu, fallback",
        ),
        (
            "es: Reiniciar}",
            "es: 2024}",
            29,
            "flows.restart.title.es: expected text, found 2024 (put it in quotes to make it text)",
        ),
        (
            "title: {en: Restart, es: Reiniciar}",
            "title: Restart",
            29,
            'flows.restart.title: expected a mapping (key: value), found "Restart"',
        ),
    ],
)
def test_each_rule_is_refused_with_its_line(
    tmp_path: Path, old: str, new: str, line: int, message: str
) -> None:
    found = problems(tmp_path, edit(old, new))
    assert any(p.line == line and message in p.message for p in found), found
    assert all(p.file == str(tmp_path / "flows.yaml") for p in found)


def test_a_bad_handoff_section_names_each_line(tmp_path: Path) -> None:
    text = BASE + """handoff:
  timezone: Mars/Olympus
  hours:
    mon: "18:00-09:00"
  colour: blue
  texts:
    busy: {en: "Busy"}
"""
    end = BASE.count("\n")
    found = [(p.line - end, p.message.split(":")[0]) for p in problems(tmp_path, text)]
    assert found == [(2, "handoff.timezone"), (4, "handoff.hours.mon"), (5, "handoff.colour"),
                     (7, "handoff.texts.busy")]
    assert load_flows(write(tmp_path, BASE)).handoff.hours is None  # optional: always open


def test_more_than_three_buttons_points_at_the_fourth(tmp_path: Path) -> None:
    button = "\n          - title: {en: More, es: Más}\n            url: https://example.com/more"
    text = edit("            goto: refunds\n", "            goto: refunds" + button * 2 + "\n")
    problem = only_problem(tmp_path, text)
    assert (problem.line, problem.message) == (
        24,
        "flows.billing.messages[1].buttons[3]: 4 buttons; Messenger allows at most 3",
    )


def test_more_than_thirteen_quick_replies_is_refused(tmp_path: Path) -> None:
    extra = "".join(
        f"\n  extra{i}:\n    title: {{en: E{i}, es: E{i}}}\n    action: restart" for i in range(14)
    )
    ids = ", ".join(f"extra{i}" for i in range(14))
    text = edit("quick_replies: [refunds, restart]", f"quick_replies: [{ids}]") + extra
    problem = only_problem(tmp_path, text)
    assert problem.line == 22
    assert problem.message == "flows.billing.quick_replies[13]: 14 quick replies; Messenger allows at most 13"


def test_a_missing_key_points_at_its_parent(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, edit("    title: {en: Refunds, es: Reembolsos}\n", ""))
    assert (problem.line, problem.message) == (23, "flows.refunds.title: required, but missing")


def test_every_problem_is_reported_sorted_by_line(tmp_path: Path) -> None:
    text = edit("es: Reiniciar}", "es: Reiniciar la conversación}")
    text = edit("goto: refunds", "goto: nowhere", text)
    text = edit('es: "Elige un tema:"}', "fr: Choisissez}", text)
    found = problems(tmp_path, text)
    assert [p.line for p in found] == [7, 7, 21, 29]
    assert 'missing the "es" translation' in found[0].message + found[1].message


def test_yaml_syntax_error_is_one_problem_with_its_line() -> None:
    with pytest.raises(FlowsError) as caught:
        load_flows(DATA / "syntax_error.yaml")
    [problem] = caught.value.problems
    assert problem.line == 7
    assert problem.message.startswith("YAML syntax error: expected ',' or ']'")
    assert "starts on line 6" in problem.message


def test_duplicate_yaml_keys_are_refused(tmp_path: Path) -> None:
    problem = only_problem(tmp_path, edit("default_locale: en\n", "default_locale: en\nlocales: [en]\n"))
    assert problem.line == 3 and "duplicate key" in problem.message


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "found an empty file"), ("- a\n- b\n", "found a list"), ("just text\n", 'found "just text"')],
)
def test_a_top_level_that_is_not_a_mapping_is_refused(tmp_path: Path, content: str, message: str) -> None:
    problem = only_problem(tmp_path, content)
    assert problem.line == 1 and message in problem.message


def test_a_missing_file_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(FlowsError) as caught:
        load_flows(tmp_path / "nope.yaml")
    assert "cannot read the file" in str(caught.value)


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "flows.yaml"
    path.write_bytes(b"default_locale: en\nlocales: [en]\ngreeting: {en: \xff}\n")
    with pytest.raises(FlowsError) as caught:
        load_flows(path)
    assert [p.line for p in caught.value.problems] == [3]


def test_a_control_character_names_its_line_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "flows.yaml"
    path.write_text("default_locale: en\nlocales: [en]\ngreeting: {en: \"a\x07b\"}\n", encoding="utf-8")
    with pytest.raises(FlowsError) as caught:
        load_flows(path)
    [problem] = caught.value.problems
    assert problem.line == 3
    assert problem.message == ("unacceptable character #x0007 "
                               "(control characters are not allowed in YAML)")


def test_odd_but_valid_yaml_loads() -> None:
    flows = load_flows(DATA / "anchors.yaml")
    assert flows.fallback == flows.greeting
    assert flows.flow("restart").title == flows.flow("billing").title
    assert flows.match("reiniciar", "es") == flows.flow("restart")


def test_a_problem_inside_a_merged_mapping_still_has_a_line() -> None:
    with pytest.raises(FlowsError) as caught:
        load_flows(DATA / "merged_error.yaml")
    [problem] = caught.value.problems
    assert problem.line == 12 and "is 21 characters" in problem.message


def test_a_list_at_the_top_is_refused() -> None:
    with pytest.raises(FlowsError, match="top_level_list.yaml:1: expected a mapping"):
        load_flows(DATA / "top_level_list.yaml")


# --- keyword matching ---


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("¿Facturación?", "facturacion"),
        ("  HUMANO!! ", "humano"),
        ("start-over", "start over"),
        ("Straße", "strasse"),
        ("¡¡¡", ""),
    ],
)
def test_normalize(raw: str, normalized: str) -> None:
    assert normalize(raw) == normalized


def matched(flows: Flows, typed: str, locale: str) -> str | None:
    flow = flows.match(typed, locale)
    return None if flow is None else flow.id


@pytest.mark.parametrize(
    ("typed", "locale", "flow_id"),
    [
        ("FACTURA", "es", "billing"),
        ("factura!", "es", "billing"),
        ("Pagó", "es", "billing"),
        ("quiero ver mi factura, por favor", "es", "billing"),
        ("factura", "en", "billing"),  # a Spanish speaker with an English profile
        ("quiero devolver el pago", "es", "refunds"),  # the longest keyword wins
        ("Start   over!", "en", "restart"),
        ("help with my factura", "en", "restart"),  # the customer's locale comes first
        ("apagón", "es", None),  # "pago" only as a whole word
        ("hay un apagon", "es", None),
        ("", "es", None),
        ("?!", "en", None),
        ("menu", "fr", "restart"),
    ],
)
def test_match(tmp_path: Path, typed: str, locale: str, flow_id: str | None) -> None:
    assert matched(base_flows(tmp_path), typed, locale) == flow_id


def test_match_is_accent_insensitive_on_both_sides(tmp_path: Path) -> None:
    text = edit("es: [factura, pago]", "es: [Facturación, HUMANO]")
    flows = load_flows(write(tmp_path, text))
    assert matched(flows, "facturacion", "es") == "billing"
    assert matched(flows, "humano!", "es") == "billing"


def test_match_does_not_normalize_keywords_per_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flows = base_flows(tmp_path)
    calls: list[str] = []
    real = text_module.normalize
    monkeypatch.setattr(text_module, "normalize", lambda s: calls.append(s) or real(s))
    assert matched(flows, "devolver el pago", "es") == "refunds"
    assert calls == ["devolver el pago"]


# --- the store: live reload ---


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def rewrite(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    stat = path.stat()  # a new mtime even on a coarse file system
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_store_serves_a_changed_file_after_the_check_interval(tmp_path: Path) -> None:
    path, clock = write(tmp_path, BASE), Clock()
    store = FlowsStore(path, check_interval=1.0, clock=clock)
    rewrite(path, edit("{en: Billing, es: Facturación}", "{en: Invoices, es: Facturas}"))
    assert store.current.title("billing", "en") == "Billing"  # not looked at yet
    clock.now += 1.0
    assert store.current.title("billing", "en") == "Invoices"
    assert store.last_problems == []


def test_store_keeps_the_last_good_flows_while_the_file_is_broken(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path, clock = write(tmp_path, BASE), Clock()
    store = FlowsStore(path, clock=clock)
    good = store.current
    rewrite(path, edit("goto: refunds", "goto: nowhere", edit("es: Reiniciar}", "es: ''}")))
    for _ in range(3):
        clock.now += 5
        with caplog.at_level(logging.WARNING, logger="bot.flows"):
            assert store.current is good
    assert [p.line for p in store.last_problems] == [21, 29]
    warnings = [r for r in caplog.records if r.name == "bot.flows" and r.levelno == logging.WARNING]
    assert len(warnings) == 2  # one per problem, once per change
    assert "flows.yaml:21: flows.billing" in warnings[0].getMessage()
    rewrite(path, edit("{en: Billing, es: Facturación}", "{en: Invoices, es: Facturas}"))
    clock.now += 5
    assert store.current.title("billing", "en") == "Invoices"
    assert store.last_problems == []


def test_store_keeps_serving_when_the_file_disappears(tmp_path: Path) -> None:
    path, clock = write(tmp_path, BASE), Clock()
    store = FlowsStore(path, clock=clock)
    path.unlink()
    clock.now += 5
    assert store.current.flow("billing")
    assert "cannot read the file" in store.last_problems[0].message


def test_store_refuses_to_start_on_a_broken_file(tmp_path: Path) -> None:
    with pytest.raises(FlowsError):
        FlowsStore(write(tmp_path, "flows: [\n"))


def test_store_is_safe_to_read_from_many_threads(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    store = FlowsStore(path, check_interval=0.0)
    seen: list[str] = []

    def read() -> None:
        for _ in range(50):
            seen.append(store.current.title("billing", "en"))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    rewrite(path, edit("{en: Billing, es: Facturación}", "{en: Invoices, es: Facturas}"))
    for thread in threads:
        thread.join()
    assert set(seen) <= {"Billing", "Invoices"} and len(seen) == 400
    assert store.current.title("billing", "en") == "Invoices"


# --- `flask flows check` ---


def cli_app(flows_path: Path | None = None) -> Flask:
    app = Flask(__name__)
    if flows_path is not None:
        app.config["FLOWS_PATH"] = str(flows_path)
    app.cli.add_command(flows_cli)
    return app


def test_check_passes_a_good_file(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    result = cli_app().test_cli_runner().invoke(args=["flows", "check", str(path)])
    assert result.exit_code == 0
    assert result.output == f"{path}: OK (3 flows, locales en, es)\n"


def test_check_defaults_to_the_app_flows_path(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    result = cli_app(path).test_cli_runner().invoke(args=["flows", "check"])
    assert (result.exit_code, result.output) == (0, f"{path}: OK (3 flows, locales en, es)\n")


def test_check_passes_the_shipped_file() -> None:
    result = cli_app().test_cli_runner().invoke(args=["flows", "check", str(SHIPPED)])
    count = len(load_flows(SHIPPED).flows)
    assert result.exit_code == 0 and result.output.endswith(f": OK ({count} flows, locales en, es, pt_BR)\n")


def test_check_prints_every_problem_and_exits_1(tmp_path: Path) -> None:
    path = write(tmp_path, edit("goto: refunds", "goto: nowhere", edit("es: Reiniciar}", "es: ''}")))
    result = cli_app(path).test_cli_runner().invoke(args=["flows", "check"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f'{path}:21: flows.billing.messages[1].buttons[1].goto: no flow named "nowhere"',
        f"{path}:29: flows.restart.title.es: must not be empty",
    ]


def test_check_reports_a_missing_file(tmp_path: Path) -> None:
    result = cli_app().test_cli_runner().invoke(args=["flows", "check", str(tmp_path / "x.yaml")])
    assert result.exit_code == 1 and f"{tmp_path / 'x.yaml'}:1: cannot read the file" in result.output


# --- never a traceback, whatever the input ---

FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEYS = st.sampled_from(
    [
        "default_locale",
        "locales",
        "greeting",
        "menu",
        "fallback",
        "flows",
        "text",
        "items",
        "title",
        "keywords",
        "messages",
        "buttons",
        "url",
        "goto",
        "action",
        "quick_replies",
        "en",
        "es",
        "billing",
        "restart",
    ]
)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
VALUES = st.recursive(
    SCALARS | KEYS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(KEYS | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=25,
)


def loads_or_refuses(path: Path) -> None:
    try:
        assert isinstance(load_flows(path), Flows)
    except FlowsError as error:
        assert error.problems and all(p.line >= 1 for p in error.problems)


@FUZZ
@given(text=st.text(max_size=300))
def test_any_text_loads_or_is_refused(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "flows.yaml"
    path.write_text(text, encoding="utf-8")
    loads_or_refuses(path)


@FUZZ
@given(text=st.text(alphabet="{}[]:,-&*!|>'\"#%@ \n\tab1", max_size=80))
def test_any_yaml_punctuation_loads_or_is_refused(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "flows.yaml"
    path.write_text(text, encoding="utf-8")
    loads_or_refuses(path)


@FUZZ
@given(data=st.dictionaries(KEYS, VALUES, max_size=8))
def test_any_mapping_loads_or_is_refused(tmp_path_factory: pytest.TempPathFactory, data: dict) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "flows.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")
    loads_or_refuses(path)


def replace_somewhere(node: object, where: list[int], value: object) -> None:
    """Follow `where` (indexes into keys or items) down the data and replace what is there."""
    for depth, step in enumerate(where):
        if not isinstance(node, dict | list) or not node:
            return
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = keys[step % len(keys)]
        if depth == len(where) - 1 or not isinstance(node[key], dict | list):
            node[key] = value
            return
        node = node[key]


@FUZZ
@given(where=st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=6), value=VALUES)
def test_any_change_to_a_good_file_loads_or_is_refused(
    tmp_path_factory: pytest.TempPathFactory, where: list[int], value: object
) -> None:
    data = YAML(typ="safe").load(BASE)
    replace_somewhere(data, where, value)
    path = tmp_path_factory.mktemp("fuzz") / "flows.yaml"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    loads_or_refuses(path)


@pytest.mark.parametrize(("messenger_locale", "ours"), [
    ("pt_BR", "pt_BR"), ("pt_PT", "pt_BR"), ("es_LA", "es"), ("es_ES", "es"), ("fr_FR", "en"), (None, "en"),
])
def test_a_messenger_locale_picks_the_closest_language_of_the_file(messenger_locale: str | None,
                                                                  ours: str) -> None:
    assert load_flows(SHIPPED).locale_for(messenger_locale) == ours
