from django.conf import settings
from django.contrib import admin
from django.shortcuts import redirect
from django.urls import include, path

from moncompte.messaging.views import dev_outbox_view

admin.site.site_header = "Mon Compte — administration"
admin.site.site_title = "Mon Compte"

urlpatterns = [
    path("", lambda request: redirect("accounts:dashboard" if request.user.is_authenticated else "accounts:login")),
    path("", include("moncompte.accounts.urls")),
    path("", include("moncompte.accounts.signup_urls")),
    path("", include("moncompte.accounts.profile_urls")),
    path("", include("moncompte.households.urls")),
    path("", include("moncompte.pages.urls")),  # accessibility statement, legal notice, personal data, cookies
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the header's language switch
    path(settings.ADMIN_URL, admin.site.urls),
]
if settings.DEBUG:
    urlpatterns.append(path("dev/boite-d-envoi/", dev_outbox_view, name="dev_outbox"))
