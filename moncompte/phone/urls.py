from django.urls import path

from moncompte.phone import views

app_name = "phone"

urlpatterns = [
    path("appel/", views.incoming, name="incoming"),
    path("<slug:name>/", views.step, name="step"),
]
