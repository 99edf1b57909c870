from django.urls import path

from moncompte.web.account import views

app_name = "accounts"

urlpatterns = [
    path("connexion/", views.login_view, name="login"),
    path("connexion/code/", views.login_code_view, name="login_code"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("identifiant-provisoire/", views.provisional_id_view, name="provisional_id"),
    path("mot-de-passe-oublie/", views.password_reset_request_view, name="password_reset"),
    path("mot-de-passe-oublie/code/", views.password_reset_complete_view, name="password_reset_complete"),
    path("mot-de-passe-oublie/code-conseiller/", views.password_reset_desk_view, name="password_reset_desk"),
    path("premiere-connexion/mot-de-passe/", views.migration_password_view, name="migration_password"),
    path("premiere-connexion/coordonnees/", views.migration_contact_view, name="migration_contact"),
    path("premiere-connexion/coordonnees/code/", views.migration_contact_code_view, name="migration_contact_code"),
    path("premiere-connexion/bienvenue/", views.onboarding_view, name="onboarding"),
    path("mon-espace/", views.dashboard_view, name="dashboard"),
    path("mon-espace/mot-de-passe/", views.password_change_view, name="password_change"),
    path("mon-espace/confirmer-mot-de-passe/", views.reauth_view, name="reauth"),
]
