"""URLs of the profile pages (issue 3)."""

app_name = "profile"

urlpatterns: list = []
