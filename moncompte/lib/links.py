"""Absolute links for messages (DESIGN §7): built from the `SITE_URL` setting, never from the request's Host.

A request's Host header is the client's to choose (ALLOWED_HOSTS does not check the port, and a proxy may pass
anything it is sent): a link built from it would let a visitor put their own address in a message to someone else.
"""

from django.conf import settings


def absolute_url(path: str) -> str:
    """`path` (from `reverse()`, starting with "/") on the site's own address: `https://moncompte.example/…`."""
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError(f"absolute_url() takes a path on this site (one leading '/'), not {path!r}")
    return settings.SITE_URL.rstrip("/") + path
