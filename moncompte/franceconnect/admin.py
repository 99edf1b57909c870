from django.contrib import admin

from moncompte.franceconnect.models import Link


@admin.register(Link)
class LinkAdmin(admin.ModelAdmin):
    """Read-only: a link is made by the person (FranceConnect, then a proof) and removed by them in « Mes
    informations »; every change is journaled by franceconnect.services."""

    list_display = ["account", "created_at", "last_login_at"]
    search_fields = ["account__login_id"]
    readonly_fields = ["account", "sub", "created_at", "last_login_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
