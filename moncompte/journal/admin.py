from django.contrib import admin

from moncompte.journal.models import Entry, Read, SecurityAlert


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


@admin.register(SecurityAlert)
class SecurityAlertAdmin(ReadOnlyAdmin):
    """Ceilings reached (one-time codes: verification.ceilings), newest first, with what was reached and where."""

    list_display = ["created_at", "kind", "ceiling", "address", "limit", "person_id"]
    list_filter = ["kind"]
    date_hierarchy = "created_at"

    @admin.display(description="plafond")
    def ceiling(self, obj: SecurityAlert) -> str:
        return obj.after.get("ceiling", "")

    @admin.display(description="adresse")
    def address(self, obj: SecurityAlert) -> str:
        return obj.after.get("address", "")

    @admin.display(description="limite")
    def limit(self, obj: SecurityAlert) -> str:
        window = obj.after.get("window_minutes")
        return f"{obj.after.get('limit', '')} / {window} min" if window else str(obj.after.get("limit", ""))


@admin.register(Read)
class ReadAdmin(ReadOnlyAdmin):
    """Who saw what: which account displayed which case or person, when, in which session and channel."""

    list_display = ["at", "viewer_account_id", "case_number", "person_id", "channel", "session_ref"]
    list_filter = ["channel"]
    search_fields = ["case_number", "=viewer_account_id", "=person_id"]
    date_hierarchy = "at"
