"""URLs of the households pages (issue 3)."""

app_name = "households"

urlpatterns: list = []
