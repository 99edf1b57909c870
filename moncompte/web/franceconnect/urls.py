from django.urls import path

from moncompte.web.franceconnect import views

app_name = "franceconnect"

urlpatterns = [
    path("franceconnect/connexion/", views.start_view, name="start"),
    path("franceconnect/retour/", views.callback_view, name="callback"),
    path("franceconnect/relier/", views.link_view, name="link"),
    path("franceconnect/nouveau-compte/", views.create_view, name="create"),
    path("franceconnect/deconnexion/", views.logged_out_view, name="logged_out"),
    path("franceconnect/detacher/", views.unlink_view, name="unlink"),
]
