"""File sizes as people read them: « 10 Mo », « 1,4 Ko » (Django's filesizeformat says « Mio », « Kio » in French)."""

from __future__ import annotations

from django.utils import formats
from django.utils.translation import gettext as _


def size_label(size: int) -> str:
    if size < 1024:
        return _("%(size)s octets") % {"size": size}
    labels = (_("%(size)s Ko"), _("%(size)s Mo"), _("%(size)s Go"))  # with the number: no other catalogue has them
    for label, factor in zip(labels, (1024, 1024**2, 1024**3), strict=True):
        if size < factor * 1024 or factor == 1024**3:
            places = 0 if size / factor >= 9.95 else 1
            value = round(size / factor, places)
            return label.replace(" ", "\u00a0") % {
                "size": formats.number_format(value, 0 if value == int(value) else places)
            }
    raise AssertionError  # pragma: no cover
