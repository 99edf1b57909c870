from django.contrib import admin, messages

from moncompte.accounts import profile_services
from moncompte.accounts.models import Account, SecurityReport, SessionRecord
from moncompte.journal.admin import ReadOnlyAdmin


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["__str__", "is_staff", "is_active", "created_at", "onboarded_at"]
    list_filter = ["is_staff", "is_active"]
    search_fields = ["person__birth_name", "person__usage_name"]
    exclude = ["password", "login_id"]
    readonly_fields = [
        "person",
        "email_verified_at",
        "mobile_verified_at",
        "password_changed_at",
        "last_login",
        "created_at",
        "onboarded_at",
    ]


@admin.register(SecurityReport)
class SecurityReportAdmin(ReadOnlyAdmin):
    """« Ce n'était pas moi »: what the person disowned, for the security team (the journal entry's id leads to the
    details in the journal)."""

    list_display = ["created_at", "account", "kind", "source", "entry_id", "handled_at"]
    list_filter = [("handled_at", admin.EmptyFieldListFilter), "source", "kind"]
    search_fields = ["account__person__birth_name", "account__person__usage_name"]
    date_hierarchy = "created_at"
    list_select_related = ["account__person"]
    fields = ["account", "kind", "entry_id", "source", "created_at", "handled_at", "note"]
    readonly_fields = fields
    actions = ["mark_handled"]

    @admin.action(description="Marquer comme traités")
    def mark_handled(self, request, queryset):
        count = 0
        for report in queryset.filter(handled_at__isnull=True):
            profile_services.security_report_mark_handled(report=report, agent_account_id=request.user.pk)
            count += 1
        self.message_user(request, f"{count} signalement(s) marqué(s) comme traité(s).", messages.SUCCESS)


@admin.register(SessionRecord)
class SessionRecordAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "via", "ip_address", "last_seen_at", "ended_at", "end_reason"]
    list_filter = [("ended_at", admin.EmptyFieldListFilter), "via", "end_reason"]
    search_fields = ["account__person__birth_name", "account__person__usage_name"]
    date_hierarchy = "created_at"
    list_select_related = ["account__person"]
    fields = ["account", "via", "user_agent", "ip_address", "created_at", "last_seen_at", "ended_at", "end_reason"]
    readonly_fields = fields
