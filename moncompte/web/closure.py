"""While the service is closed (incidents.switch), every page answers the maintenance page, HTTP 503 with
Retry-After, before any session, cookie or database work; only the admin and the agents' sign-in stay open, for the
security team (who sign in there as usual). The phone channel asks the same switch itself, after checking the
provider's signature, and speaks its notice (a provider needs a 200 and TwiML to say anything)."""

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation

from moncompte.incidents import switch


class ClosedServiceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.admin_prefix = "/" + settings.ADMIN_URL.lstrip("/")
        self.phone_prefix = "/" + settings.PHONE_URL.lstrip("/")
        # The agents' sign-in: the security team signs in there to reach the admin and reopen the service.
        self.agent_login_prefix = "/" + settings.DESK_URL.lstrip("/") + "connexion/"

    def __call__(self, request):
        closed = switch.closed()
        if closed is None or request.path.startswith((self.admin_prefix, self.phone_prefix, self.agent_login_prefix)):
            return self.get_response(request)
        with translation.override(settings.LANGUAGE_CODE):
            body = render_to_string("maintenance.html", {"since": closed.since})
        response = HttpResponse(body, status=503)
        response["Retry-After"] = str(settings.INCIDENT_RETRY_AFTER_SECONDS)
        # Not an error of the request: Django would log each one at ERROR level, thousands a minute while closed.
        response._has_been_logged = True
        return response
