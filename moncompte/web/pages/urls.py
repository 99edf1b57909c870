"""URLs of the fixed pages linked from the footer of every page (issue 7, item 16)."""

from django.urls import path

from moncompte.web.pages import views

app_name = "pages"

urlpatterns = [
    path("accessibilite/", views.accessibility_view, name="accessibility"),
    path("mentions-legales/", views.legal_notice_view, name="legal_notice"),
    path("donnees-personnelles/", views.personal_data_view, name="personal_data"),
    path("cookies/", views.cookies_view, name="cookies"),
]
