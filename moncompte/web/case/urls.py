"""URLs of what the Caf has in a case (namespace `case`): payments, letters and their PDF, the Caf's requests and
the answer to one of them."""

from django.urls import path

from moncompte.web.case import views

app_name = "case"

urlpatterns = [
    path("mon-dossier/<str:case_number>/paiements/", views.payments_view, name="payments"),
    path("mon-dossier/<str:case_number>/courriers/", views.letters_view, name="letters"),
    path("mon-dossier/<str:case_number>/courriers/<str:letter_id>/pdf/", views.letter_pdf_view, name="letter_pdf"),
    path("mon-dossier/<str:case_number>/demandes-de-la-caf/", views.requests_view, name="requests"),
    path(
        "mon-dossier/<str:case_number>/demandes-de-la-caf/<str:request_id>/repondre/",
        views.answer_view,
        name="answer",
    ),
]
