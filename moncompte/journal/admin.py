from django.contrib import admin

from moncompte.journal.models import Entry


class ReadOnlyAdmin(admin.ModelAdmin):
    """Lists for agents to look things up. Changes go through the services (journaled), from admin actions that call
    them, never through a form. Every app's admin may use it: the journal is the ground floor."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    """Read-only: the journal is append-only; undoing goes through `journal.services.undo`."""

    list_display = ["created_at", "kind", "channel", "actor_account_id", "person_id", "case_number", "undone_at"]
    list_filter = ["channel", "kind"]
    search_fields = ["kind", "case_number"]
    date_hierarchy = "created_at"
