"""URLs of the profile pages (issue 3): "Mes informations", contact changes, security history, sessions."""

from django.urls import path

from moncompte.web.myspace import views

app_name = "profile"

urlpatterns = [
    path("mon-espace/mes-informations/", views.info_view, name="info"),
    path("mon-espace/mes-informations/signaler-une-erreur/", views.correction_view, name="correction"),
    path("mon-espace/mes-informations/telecharger/<str:fmt>/", views.download_view, name="download"),
    # Before contact_change: "code" is not a medium.
    path("mon-espace/coordonnees/code/", views.contact_code_view, name="contact_code"),
    path("mon-espace/coordonnees/<str:medium>/", views.contact_change_view, name="contact_change"),
    path("ce-n-etait-pas-moi/<str:token>/", views.not_me_view, name="not_me"),
    path("mon-espace/securite/", views.security_view, name="security"),
    path("mon-espace/securite/signaler/", views.security_report_view, name="security_report"),
    path("mon-espace/sessions/", views.sessions_view, name="sessions"),
    path("mon-espace/sessions/fermer/", views.sessions_end_view, name="sessions_end"),
]
