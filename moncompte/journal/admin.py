from django.contrib import admin

from moncompte.journal.models import Entry


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    """Read-only: the journal is append-only; undoing goes through `journal.services.undo`."""

    list_display = ["created_at", "kind", "channel", "actor_account_id", "person_id", "case_number", "undone_at"]
    list_filter = ["channel", "kind"]
    search_fields = ["kind", "case_number"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
