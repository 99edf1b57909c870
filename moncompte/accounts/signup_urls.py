"""URLs of the signup pages (issue 3)."""

app_name = "signup"

urlpatterns: list = []
