from moncompte.journal import context
from moncompte.journal.models import Channel


class JournalContextMiddleware:
    """Gives every journal entry written during a request its channel, actor, session, IP and device."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        with context.acting(
            channel=Channel.WEB,
            actor_account_id=user.pk if user is not None and user.is_authenticated else None,
            session_ref=context.session_ref(request.session.session_key),
            ip_address=client_ip(request),
            user_agent=request.headers.get("User-Agent", "")[:256],
        ):
            return self.get_response(request)


def client_ip(request) -> str | None:
    """The address the login limits also count on: REMOTE_ADDR, or what PROXY_COUNT (AXES_IPWARE_*) says of trusted
    proxies. Never a client-supplied X-Forwarded-For: anyone could write any address into the journal."""
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request)
