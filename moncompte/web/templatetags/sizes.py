from django import template

from moncompte.lib.sizes import size_label

register = template.Library()


@register.filter
def octets(size) -> str:
    """`{{ file.size|octets }}`: « 1,4 Ko », « 10 Mo »."""
    try:
        return size_label(int(size))
    except (TypeError, ValueError):
        return ""
