from django.contrib import admin

from moncompte.households.models import Case, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["person"]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["case_number", "created_at"]
    search_fields = ["case_number"]
    exclude = ["pin_hash"]
    readonly_fields = ["pin_changed_at"]
    inlines = [MembershipInline]
