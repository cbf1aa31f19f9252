"""A cell's number format says what a number is shown as: a date, a percentage, or a number.

Excel saves a date as its serial number of days and 50 % as 0.5: read as a plain number, a date
typed in an amount cell becomes tens of thousands of euros and 50 % becomes 0,50 €. The cell's
style (``s``, an index into styles.xml ``cellXfs``) names its number format: a built-in one by
id, or a custom code. Dates are recognised as python-calamine recognises them (the same ids,
the same reading of a custom code), so both engines agree on every cell.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

DATE, PERCENT = "date", "percent"
# ECMA-376 18.8.30: 14–22 dates and times, 45–47 minutes and durations (as calamine); 9–10 %.
BUILTIN = {**dict.fromkeys((*range(14, 23), 45, 46, 47), DATE), 9: PERCENT, 10: PERCENT}
_DATE_LETTERS = frozenset("dmhysDMHYS")
_EPOCH = dt.datetime(1899, 12, 30)
_EPOCH_1904 = dt.datetime(1904, 1, 1)


def format_kind(code: str) -> str | None:
    """DATE, PERCENT or None for a custom format code, from its first section: what is quoted,
    escaped (``\\x``, ``_x``) or between brackets (``[Red]``, ``[$€-40C]``) is not read, but an
    elapsed time (``[h]``, ``[mm]``) is a date, and so is ``AM/PM``."""
    escaped = quoted = False
    brackets, previous, elapsed, am = 0, " ", False, False
    percent = False
    for char in code:
        if escaped:
            escaped = False
        elif char in "_\\":
            escaped = True
        elif quoted:
            quoted = char != '"'
        elif char == '"':
            quoted = True
        elif char == ";":
            break
        elif char == "[":
            brackets += 1
        elif char == "]":
            if brackets == 1 and elapsed:
                return DATE
            brackets = max(0, brackets - 1)
        elif brackets == 0 and not am and char in "aA":
            am = True
        elif brackets == 0 and char in ("pmPM/" if am else _DATE_LETTERS):
            return DATE
        else:
            if brackets == 0 and char == "%":
                percent = True
            if not (elapsed and char.lower() == previous.lower()):
                elapsed = previous == "[" and char in "mhsMHS"
        previous = char
    return PERCENT if percent else None


def style_kinds(formats: dict[int, str], styles: list[int]) -> dict[int, str]:
    """Style index -> DATE or PERCENT, for the styles (``cellXfs``, their ``numFmtId`` in
    order) whose number format is one; ``formats`` are the custom codes by id."""
    kinds = {}
    for index, number_format in enumerate(styles):
        code = formats.get(number_format)
        kind = format_kind(code) if code is not None else BUILTIN.get(number_format)
        if kind is not None:
            kinds[index] = kind
    return kinds


def shown(number: Decimal, kind: str, date1904: bool = False) -> str:
    """The number as the cell shows it, roughly: « 15/01/2025 », « 15/01/2025 09:30 »,
    « 09:30 », « 50 % », « 12,5 % »."""
    if kind == PERCENT:
        text = format(number * 100, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text.replace(".", ",") + "\u00a0%"
    try:
        seconds = round(number * 86400)  # as Excel shows it: to the second (half to even)
        when = (_EPOCH_1904 if date1904 else _EPOCH) + dt.timedelta(seconds=seconds)
    except (OverflowError, ValueError):
        return format(number, "f").replace(".", ",")
    return shown_date(when, whole=number == number.to_integral_value(), time_only=number < 1)


def shown_date(when: dt.datetime | dt.date | dt.time, *, whole: bool = True,
               time_only: bool = False) -> str:
    """A date or time as the French write it."""
    if isinstance(when, dt.time):
        return when.strftime("%H:%M")
    if not isinstance(when, dt.datetime):
        return when.strftime("%d/%m/%Y")
    if time_only:
        return when.strftime("%H:%M")
    return when.strftime("%d/%m/%Y" if whole else "%d/%m/%Y %H:%M")


def serial(when: dt.datetime | dt.date | dt.time | dt.timedelta, date1904: bool = False
           ) -> Decimal | None:
    """The number Excel saves for a date, a time or a duration (None if it has none)."""
    if isinstance(when, dt.timedelta):
        return Decimal(str(when.total_seconds() / 86400))
    if isinstance(when, dt.time):
        when = dt.datetime.combine(_EPOCH.date(), when)
    elif not isinstance(when, dt.datetime):
        when = dt.datetime.combine(when, dt.time())
    days = (when - (_EPOCH_1904 if date1904 else _EPOCH)).total_seconds() / 86400
    return Decimal(str(int(days) if days.is_integer() else days))
