from django.contrib import admin

from moncompte.legacy.models import ImportRun


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    """Runs of `manage.py import_legacy`, for operators to follow; written only by the command."""

    list_display = ["file_name", "started_at", "finished_at", "cases_done", "total_cases", "rejected_cases"]
    readonly_fields = [field.name for field in ImportRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
