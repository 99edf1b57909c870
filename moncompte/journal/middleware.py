import ipaddress

from moncompte.journal import context, reads
from moncompte.journal.models import Channel


class JournalContextMiddleware:
    """Gives every journal entry written during a request its channel, actor, session, IP and device."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        with context.acting(
            channel=Channel.DESK if request.path.startswith(_desk_prefix()) else Channel.WEB,
            actor_account_id=user.pk if user is not None and user.is_authenticated else None,
            session_ref=context.session_ref(request.session.session_key),
            ip_address=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:256],
        ):
            return self.get_response(request)


def _desk_prefix() -> str:
    """The agents' screens act in the desk channel (their looks and actions say so in the journal)."""
    from django.conf import settings

    return "/" + settings.DESK_URL.lstrip("/")


def client_ip(request) -> str | None:
    """The address the login limits count on (axes too: AXES_CLIENT_IP_CALLABLE) and the journal records.

    With PROXY_COUNT = 0, REMOTE_ADDR. Behind PROXY_COUNT trusted reverse proxies, each of which appends the address
    it received the request from to X-Forwarded-For, the entry PROXY_COUNT from the right is the one the outermost
    proxy appended: the client's. Whatever stands left of it, the client wrote itself; never trust it. A request with
    fewer entries than proxies did not come through them: REMOTE_ADDR."""
    from django.conf import settings

    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.PROXY_COUNT
    if count <= 0:
        return remote
    entries = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    if len(entries) < count:
        return remote
    candidate = entries[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


class ReadRecordingMiddleware:
    """Collects what the access policy handed out during the request (journal.reads.seen) and writes it once the
    response has been sent: a response's closers run after the last byte, before the request's end closes the
    database connection."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with reads.collecting() as subjects:
            response = self.get_response(request)
        if subjects:
            ctx = context.current()
            looks = set(subjects)
            response._resource_closers.append(
                lambda: reads.write(
                    looks,
                    viewer_account_id=ctx.actor_account_id,
                    session_ref=ctx.session_ref,
                    channel=ctx.channel,
                )
            )
        return response
