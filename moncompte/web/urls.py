"""The web channel's URLs: each area's, under the namespaces the pages have always had."""

from django.conf import settings
from django.shortcuts import redirect
from django.urls import include, path

from moncompte.web.household import urls as household_urls
from moncompte.web.pages.views import dev_outbox_view
from moncompte.web.signup import urls as signup_urls


def home_view(request):
    return redirect("accounts:dashboard" if request.user.is_authenticated else "accounts:login")


urlpatterns = [
    path("", home_view),
    path("", include("moncompte.web.account.urls")),
    path("", include((signup_urls.urlpatterns + household_urls.signup_urlpatterns, "signup"))),
    path("", include("moncompte.web.myspace.urls")),
    path("", include("moncompte.web.household.urls")),
    path("", include("moncompte.web.case.urls")),
    path("", include("moncompte.web.procedures.urls")),
    path("", include("moncompte.web.pages.urls")),
    path(
        "", include("moncompte.web.franceconnect.urls")
    ),  # accessibility statement, legal notice, personal data, cookies
]
if settings.DEBUG:
    urlpatterns.append(path("dev/boite-d-envoi/", dev_outbox_view, name="dev_outbox"))
