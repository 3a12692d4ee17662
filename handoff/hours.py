"""Business hours: whether agents are in now, and when they are next, in the customer's words."""

from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import format_date, format_time, get_day_names

from bot.flows.handoff_config import DAYS, HandoffConfig
from core.i18n import babel_locale, say

LOOK_AHEAD_DAYS = 31  # beyond this "back soon" is all we say


def is_open(config: HandoffConfig, at: datetime) -> bool:
    """Agents are in at `at` (an aware datetime): within the day's hours, not on a holiday."""
    if config.hours is None:
        return True
    local = at.astimezone(config.zone)
    if local.date() in config.holidays:
        return False
    minute = local.hour * 60 + local.minute
    spans = config.hours.get(DAYS[local.weekday()], ())  # type: ignore[call-overload]
    return any(start <= minute < end for start, end in spans)


def next_opening(config: HandoffConfig, at: datetime) -> datetime | None:
    """The first moment from `at` on when agents are in; None if none within a month."""
    if config.hours is None:
        return at
    local = at.astimezone(config.zone)
    for offset in range(LOOK_AHEAD_DAYS + 1):
        day = (local + timedelta(days=offset)).date()
        if day in config.holidays:
            continue
        for start, end in config.hours.get(DAYS[day.weekday()], ()):  # type: ignore[call-overload]
            opening = datetime(day.year, day.month, day.day, tzinfo=config.zone) + timedelta(
                minutes=start)
            closing = opening + timedelta(minutes=end - start)
            if closing > local:
                return max(opening, local)
    return None


def when_text(config: HandoffConfig, at: datetime, locale: str) -> str:
    """'tomorrow at 9:00 AM (CET)' / 'amanhã às 09:00 (CET)': when agents are back, in the
    customer's language, with the time in the business-hours timezone (`handoff.timezone`),
    the one the hours are written in, named so the customer can convert it."""
    opening = next_opening(config, at)
    if opening is None:
        return say(locale, "soon")
    where = babel_locale(locale)
    days = (opening.date() - at.astimezone(config.zone).date()).days
    time = f"{format_time(opening, 'short', locale=where)} ({opening.tzname()})"
    if days == 0:
        return say(locale, "today at {time}", time=time)
    if days == 1:
        return say(locale, "tomorrow at {time}", time=time)
    if days < 7:
        day = get_day_names("wide", locale=where)[opening.weekday()]
        return say(locale, "on {day} at {time}", day=day, time=time)
    date = format_date(opening.date(), "long", locale=where)
    return say(locale, "on {date} at {time}", date=date, time=time)
