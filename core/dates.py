"""Moments as people read them: in their language (Babel's CLDR formats) and in the
business-hours timezone (`handoff.timezone` of the flows file), the clock the team works by.
The zone's abbreviation follows, so nobody has to guess which clock it is."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton, format_time

from core.i18n import babel_locale


def moment_text(moment: datetime | None, locale: str | None, zone: ZoneInfo | None = None) -> str:
    """'Dec 5, 2026, 14:30 (CET)' / '5 de dez. de 2026 14:30 (CET)'; '' for no moment.

    A naive `moment` is UTC (what the databases hand back)."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = aware.astimezone(zone or ZoneInfo("UTC"))
    where = babel_locale(locale)
    day = format_skeleton("yMMMd", local, locale=where)
    time = format_time(local, "short", locale=where)
    pattern = str(where.datetime_formats["medium"]).replace("'", "")  # "{1}, {0}": date, time
    return f"{pattern.replace('{1}', day).replace('{0}', time)} ({local.tzname()})"
