"""URLs of the households pages (issue 3): the household space, delegation and separation."""

from django.urls import path

from moncompte.households import views

app_name = "households"

urlpatterns = [
    path("mon-foyer/", views.home_view, name="home"),
    path("mon-foyer/<str:case_number>/", views.case_view, name="case"),
    path("mon-foyer/<str:case_number>/delegation/", views.delegation_view, name="delegation"),
    path("mon-foyer/<str:case_number>/separation/", views.separation_view, name="separation"),
]
