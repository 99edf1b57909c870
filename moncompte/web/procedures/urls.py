"""« Mes démarches »: the requests a person may start, their drafts, the steps, the summary and the receipts."""

from django.urls import path

from moncompte.web.procedures import views

app_name = "procedures"

urlpatterns = [
    path("demarches/", views.index_view, name="index"),
    path("demarches/commencer/<slug:kind>/", views.start_view, name="start"),
    path("demarches/en-cours/<str:handle>/", views.resume_view, name="resume"),
    path("demarches/en-cours/<str:handle>/etape/<slug:step>/", views.step_view, name="step"),
    path("demarches/en-cours/<str:handle>/supprimer/", views.delete_view, name="delete"),
    path("demarches/recus/<str:reference>/", views.receipt_view, name="receipt"),
    path("demarches/recus/<str:reference>/pdf/", views.receipt_pdf_view, name="receipt_pdf"),
]
