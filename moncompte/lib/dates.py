"""Dates N years apart, with 29 February counted the way `identity.models.Person.age_on` counts ages: a birthday of
29 February comes on 1 March in common years; and a wait in minutes, as a person reads it."""

from __future__ import annotations

import datetime
import math

from django.utils.translation import ngettext


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The latest date at least `years` years before `day`: whoever was born on it or earlier is `years` old on `day`
    (29 February goes back to the 28th in a common year)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def years_after(day: datetime.date, years: int) -> datetime.date:
    """The anniversary `years` years after `day` (29 February: 1 March in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return datetime.date(day.year + years, 3, 1)


def in_minutes(seconds: float) -> str:
    """A wait as the person reads it: « 3 minutes », rounded up, never less than « 1 minute »."""
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext("%(minutes)s minute", "%(minutes)s minutes", minutes) % {"minutes": minutes}
