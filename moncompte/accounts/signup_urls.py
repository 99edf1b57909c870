"""URLs of the signup pages (issue 3): member signup from the login page, the holder's invitations and approvals,
and the invitation link."""

from django.urls import path

from moncompte.accounts import signup_views as views

app_name = "signup"

urlpatterns = [
    path("creer-mon-compte/", views.start_view, name="start"),
    path("creer-mon-compte/coordonnees/", views.contact_view, name="contact"),
    path("creer-mon-compte/code/", views.code_view, name="code"),
    path("creer-mon-compte/en-attente/", views.pending_view, name="pending"),
    path("mon-foyer/<str:case_number>/inviter/<int:person_id>/", views.invite_view, name="invite"),
    path("mon-foyer/<str:case_number>/demandes/<int:request_id>/", views.request_decide_view, name="request_decide"),
    path("invitation/saisir-le-code/", views.invitation_code_view, name="invitation_code"),
    path("invitation/<str:token>/", views.invitation_view, name="invitation"),
]
