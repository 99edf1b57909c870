from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path(settings.PHONE_URL, include("moncompte.phone.urls")),  # the voice server's webhooks
    path(settings.DESK_URL, include("moncompte.desk.urls")),  # the agents' screens
    path("", include("moncompte.web.urls")),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the header's language switch
    path(settings.ADMIN_URL, admin.site.urls),
]
