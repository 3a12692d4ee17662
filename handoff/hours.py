"""Business hours: whether agents are in now, and when they are next, in the customer's words."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.flows.handoff_config import DAYS, HandoffConfig

LOOK_AHEAD_DAYS = 31  # beyond this "back soon" is all we say
_DAY_NAMES = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
_PHRASES = {  # today, tomorrow, a weekday, a date, unknown
    "en": ("today at {time}", "tomorrow at {time}", "on {day} at {time}", "on {date} at {time}",
           "soon"),
    "es": ("hoy a las {time}", "mañana a las {time}", "el {day} a las {time}",
           "el {date} a las {time}", "pronto"),
}


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
    """'tomorrow at 09:00 (CET)' / 'el lunes a las 09:00 (CET)': when agents are back."""
    language = locale.split("_")[0]
    today, tomorrow, weekday, dated, unknown = _PHRASES.get(language, _PHRASES["en"])
    opening = next_opening(config, at)
    if opening is None:
        return unknown
    local_now = at.astimezone(config.zone)
    days = (opening.date() - local_now.date()).days
    time = f"{opening:%H:%M} ({opening.tzname()})"
    if days == 0:
        return today.format(time=time)
    if days == 1:
        return tomorrow.format(time=time)
    names = _DAY_NAMES.get(language)
    if days < 7 and names is not None:
        return weekday.format(day=names[opening.weekday()], time=time)
    return dated.format(date=opening.date().isoformat(), time=time)
