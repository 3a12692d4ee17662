"""Business hours: open or closed, and when agents are back, in the customer's words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.flows.handoff_config import HandoffConfig
from handoff.hours import is_open, next_opening, when_text

MADRID = ZoneInfo("Europe/Madrid")
WEEK = HandoffConfig.model_validate({
    "timezone": "Europe/Madrid",
    "hours": {"mon": "09:00-13:00, 15:00-18:00", "tue": "09:00-18:00", "wed": "09:00-18:00",
              "thu": "09:00-18:00", "fri": "09:00-14:00", "sat": "", "sun": []},
    "holidays": ["2026-12-25"],
})


def at(text: str, zone: ZoneInfo = MADRID) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


@pytest.mark.parametrize(("moment", "open_"), [
    ("2026-11-23 08:59", False),  # Monday, before opening
    ("2026-11-23 09:00", True),
    ("2026-11-23 13:30", False),  # lunch in a split day
    ("2026-11-23 17:59", True),
    ("2026-11-23 18:00", False),
    ("2026-11-28 11:00", False),  # Saturday: closed
    ("2026-12-25 11:00", False),  # Friday, but a holiday
])
def test_is_open(moment: str, open_: bool) -> None:
    assert is_open(WEEK, at(moment)) is open_


def test_hours_are_the_configured_timezone_s_whatever_the_clock_s() -> None:
    assert is_open(WEEK, at("2026-11-23 08:30", ZoneInfo("UTC")))  # 09:30 in Madrid
    assert not is_open(WEEK, at("2026-11-23 06:30", ZoneInfo("America/Mexico_City")))  # 13:30


def test_without_hours_agents_are_always_in() -> None:
    assert is_open(HandoffConfig(), at("2026-11-29 03:00"))


@pytest.mark.parametrize(("moment", "locale", "said"), [
    ("2026-11-23 08:00", "en", "today at 9:00\u202fAM (CET)"),
    ("2026-11-23 13:30", "es", "hoy a las 15:00 (CET)"),
    ("2026-11-23 19:00", "en", "tomorrow at 9:00\u202fAM (CET)"),
    ("2026-11-27 15:00", "es", "el lunes a las 9:00 (CET)"),  # Friday afternoon
    ("2026-11-28 12:00", "en_US", "on Monday at 9:00\u202fAM (CET)"),
    ("2026-12-24 19:00", "en", "on Monday at 9:00\u202fAM (CET)"),  # holiday Friday, weekend
    ("2026-11-23 19:00", "pt_BR", "amanhã às 09:00 (CET)"),
    ("2026-11-27 15:00", "pt_BR", "segunda-feira às 09:00 (CET)"),
    ("2026-11-27 15:00", "pt_PT", "segunda-feira às 09:00 (CET)"),  # pt_BR's words, pt_PT's clock
    ("2026-11-27 15:00", "fr", "on Monday at 9:00\u202fAM (CET)"),  # no catalog: all English
])
def test_when_agents_are_back(moment: str, locale: str, said: str) -> None:
    assert when_text(WEEK, at(moment), locale) == said


def test_summer_time_keeps_the_wall_clock() -> None:
    opening = next_opening(WEEK, at("2026-03-27 15:00"))  # Friday; clocks change on Sunday
    assert opening is not None and opening.isoformat() == "2026-03-30T09:00:00+02:00"


def test_no_opening_within_a_month_is_soon() -> None:
    never = HandoffConfig.model_validate({"hours": {}})
    assert next_opening(never, at("2026-11-23 10:00")) is None
    assert when_text(never, at("2026-11-23 10:00"), "es") == "pronto"


def test_beyond_a_week_the_date_is_written_out_in_the_customer_s_language() -> None:
    month_off = HandoffConfig.model_validate({"timezone": "Europe/Madrid", "hours": {"mon": "09:00-18:00"},
                                              "holidays": ["2026-11-30", "2026-12-07"]})
    said = when_text(month_off, at("2026-11-27 15:00"), "pt_BR")
    assert said == "em 14 de dezembro de 2026, às 09:00 (CET)"
    assert when_text(month_off, at("2026-11-27 15:00"), "en") == "on December 14, 2026 at 9:00\u202fAM (CET)"


def test_handover_texts_left_out_come_from_the_catalogs_and_written_ones_win() -> None:
    defaults = HandoffConfig().texts
    assert defaults.busy["pt_BR"].startswith("Desculpe, nenhum atendente conseguiu")
    assert defaults.busy["es"].startswith("Lo sentimos, ningún agente")
    assert defaults.wait_button == {"en": "Wait for an agent", "es": "Esperar a un agente",
                                    "pt_BR": "Esperar atendente"}
    written = HandoffConfig.model_validate({"texts": {"busy": {"en": "Hold on.", "pt_BR": "Aguarde."}}})
    assert written.texts.busy == {"en": "Hold on.", "pt_BR": "Aguarde."}
    assert written.texts.returned == defaults.returned  # the others still from the catalogs
