"""URLs of the signup pages: member signup from the login page and the invitation link. The holder's invitation and
approval pages, in the same `signup` namespace for their historical names, belong to the household area."""

from django.urls import path

from moncompte.web.signup import applicant, views

urlpatterns = [
    path("creer-mon-compte/", views.start_view, name="start"),
    path("creer-mon-compte/coordonnees/", views.contact_view, name="contact"),
    path("creer-mon-compte/code/", views.code_view, name="code"),
    path("creer-mon-compte/en-attente/", views.pending_view, name="pending"),
    path("faire-une-demande/", applicant.start_view, name="applicant_start"),
    path("faire-une-demande/coordonnees/", applicant.contact_view, name="applicant_contact"),
    path("faire-une-demande/code/", applicant.code_view, name="applicant_code"),
    path("faire-une-demande/bienvenue/", applicant.welcome_view, name="applicant_welcome"),
    path("invitation/saisir-le-code/", views.invitation_code_view, name="invitation_code"),
    path("invitation/<str:token>/", views.invitation_view, name="invitation"),
]
