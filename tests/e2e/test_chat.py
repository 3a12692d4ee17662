"""`flask chat`: a whole conversation in Spanish typed on stdin, through the real pipeline
(its own stand-in Facebook, web app on loopback, in-process jobs)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from bot import extensions
from core import runtime
from tests.conftest import ROOT, make_settings

pytestmark = pytest.mark.e2e


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The app `flask --app app` would build, with a page token: chat must not use it."""
    from app import create_app

    flask_app = create_app(make_settings(tmp_path))
    yield flask_app
    runtime.install(None)
    flask_app.extensions["runtime"].engine.dispose()


def chat(app: Flask, lines: list[str], *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["chat", *args], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    return result.output


def handoff_ready(app: Flask) -> bool:
    flows = app.extensions["runtime"].flows.current
    has_flow = any(flow.action == "live_agent" for flow in flows.flows.values())
    return has_flow and "live_agent" in extensions.action_handlers()


def test_a_spanish_customer_picks_by_number_types_keywords_uses_the_menu_and_restarts(
        app: Flask) -> None:
    outer = app.extensions["runtime"]
    output = chat(app, ["hola", "1", "2", "quiero mi factura", "/menu", "/restart", "/quit",
                        "never read"], "--locale", "es", "--name", "Lucía")
    turns = output.split("you> ")
    greeting, billing, refunds, invoices, menu, restarted = turns[1:7]
    assert "bot> ¡Hola Lucía! Soporte al cliente." in greeting
    assert "[1] Facturación  [2] Ayuda técnica" in greeting
    assert "Portal de pagos: https://example.com/billing" in billing
    assert "[1] Facturas  [2] Reembolsos  [3]" in billing
    assert "reembolso en los 30 días" in refunds
    assert "descargar tus facturas" in invoices
    assert menu.startswith("/menu\nmenu [1] ") and "] Reiniciar" in menu
    assert "Elige un tema" in restarted and "[1] Facturación" in restarted
    assert "never read" not in output
    assert app.extensions["runtime"] is outer and runtime.current() is outer


def test_agent_commands_in_spanish(app: Flask) -> None:
    if not handoff_ready(app):
        output = chat(app, ["hola", "/agent", "/done", "/quit"], "--locale", "es")
        assert "has no flow with action live_agent" in output
        assert "the Page Inbox does not own" in output
        pytest.skip("the handoff feature (issue 3) has not landed: only the refusals were checked")
    output = chat(app, ["hola", "/agent", "¿hay alguien?", "/reply Hola, soy Marta. Te ayudo.",
                        "/done", "/quit"], "--locale", "es", "--name", "Lucía")
    greeting, agent, waiting, reply, done = output.split("you> ")[1:6]
    assert "a person from the Page Inbox has the conversation now" in agent
    assert "bot>" not in waiting  # the bot stays silent while a person owns the thread
    assert "bot>" not in reply
    assert "the bot has the conversation again" in done and "¿Cómo valorarías la ayuda" in done
    assert "[1] ⭐  [2] ⭐⭐" in done  # the rating question (tests/e2e/test_satisfaction_journey.py)


def test_an_unknown_locale_is_refused_with_the_flows_locales(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["chat", "--locale", "fr"], input="hola\n")
    assert result.exit_code == 2
    assert "'fr': the flows speak en, es" in result.output


def test_flask_chat_from_a_shell_ignores_production_settings(tmp_path: Path) -> None:
    env = {**os.environ, "MESSENGER_PAGE_ACCESS_TOKEN": "EAAprod-token-should-not-be-used",
           "REDIS_URL": "redis://127.0.0.1:9/0", "SECRET_KEY": "production-secret-key",
           "FLOWS_PATH": str(ROOT / "config/flows.yaml")}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "flask"), "--app", str(ROOT / "app.py"), "chat"],
        input="hello\n4\n", cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "bot> Hi Ana! This is the support desk." in done.stdout
    assert "Monday to Friday" in done.stdout
