from django.urls import path

from moncompte.desk import views

app_name = "desk"

urlpatterns = [
    # Signing in (open while the service is closed: the security team signs in here to reopen it).
    path("connexion/", views.login_view, name="login"),
    path("connexion/code/", views.second_factor_view, name="second_factor"),
    path("connexion/activation/", views.enrol_view, name="enrol"),
    path("connexion/codes-de-secours/", views.backup_codes_view, name="backup_codes"),
    path("connexion/deconnexion/", views.logout_view, name="logout"),
    # Receiving a person.
    path("", views.home_view, name="home"),
    path("echange/", views.exchange_view, name="exchange"),
    path("echange/ouvrir/", views.exchange_open_view, name="exchange_open"),
    path("echange/code/", views.reset_code_view, name="reset_code"),
    path("echange/invitation/", views.invitation_view, name="invitation"),
    path("echange/signalement/", views.error_report_view, name="error_report"),
    path("echange/fin/", views.exchange_end_view, name="exchange_end"),
    # Supervisors.
    path("equipe/", views.team_view, name="team"),
]
