"""URLs of the household pages: the household space, delegation and separation (namespace `households`), and the
holder's invitation and approval pages (`signup:invite`, `signup:request_decide`, names kept from before the web
channel; `moncompte.web.urls` puts them in the signup namespace)."""

from django.urls import path

from moncompte.web.household import views

app_name = "households"

urlpatterns = [
    path("mon-foyer/", views.home_view, name="home"),
    path("mon-foyer/<str:case_number>/", views.case_view, name="case"),
    path("mon-foyer/<str:case_number>/delegation/", views.delegation_view, name="delegation"),
    path("mon-foyer/<str:case_number>/separation/", views.separation_view, name="separation"),
]

signup_urlpatterns = [
    path("mon-foyer/<str:case_number>/inviter/<int:person_id>/", views.invite_view, name="invite"),
    path("mon-foyer/<str:case_number>/demandes/<int:request_id>/", views.request_decide_view, name="request_decide"),
]
