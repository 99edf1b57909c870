"""Agents see the requests sent and the drafts in progress, read-only: a submission is the person's declaration."""

from django.contrib import admin

from moncompte.procedures.models import Document, Draft, Submission


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Submission)
class SubmissionAdmin(ReadOnly):
    list_display = ["reference", "kind", "case", "author", "submitted_at", "withdrawn_at", "processed_at"]
    list_filter = ["kind", "submitted_at"]
    search_fields = ["reference", "case__case_number"]
    readonly_fields = [f.name for f in Submission._meta.fields]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Draft)
class DraftAdmin(ReadOnly):
    list_display = ["kind", "case", "author", "current_step", "saved_at", "expires_at"]
    list_filter = ["kind"]
    exclude = ["data", "prefill"]  # what the person typed stays theirs until they send it

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Draft._meta.fields if f.name not in ("data", "prefill")]


@admin.register(Document)
class DocumentAdmin(ReadOnly):
    list_display = ["original_name", "purpose", "content_type", "size", "owner", "submission", "uploaded_at"]
    readonly_fields = [f.name for f in Document._meta.fields]
