"""`{% load places %}`: INSEE codes shown as names, « Paris 12e Arrondissement (75112) », « Maroc (99350) ».

    {{ person.birthplace|place_name:person.birth_date|default:"—" }}
    {{ person.birth_country|country_name }}

The name is the one the place had on the date given (a birth date: a date, or text as 1984-05-01 or 01/05/1984),
else today's; an unknown code is shown alone, and an empty one gives "" (so `default` applies). Place names are data:
they are not translated.
"""

import datetime

from django import template

from moncompte.identity import places

register = template.Library()


def _as_date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and value:
        for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return datetime.datetime.strptime(value[:10], pattern).date()
            except ValueError:
                continue
    return None


@register.filter
def place_name(code, on=None) -> str:
    """A commune's INSEE code as « name (code) »."""
    return places.commune_label(code, _as_date(on))


@register.filter
def country_name(code) -> str:
    """An INSEE country code as « name (code) »."""
    return places.country_label(code)
