"""Agents read the household's answers to the Caf's requests here, read-only (the case system is not written to:
services.py), and download their files. Files are served only through this admin, to staff with the view
permission, as attachments: never from a public URL."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from moncompte.agency.models import AgencyAnswer, AnswerDocument
from moncompte.journal.admin import ReadOnlyAdmin


class AnswerDocumentInline(admin.TabularInline):
    model = AnswerDocument
    extra = 0
    fields = ["download", "content_type", "size", "sha256"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="fichier")
    def download(self, document: AnswerDocument) -> str:
        url = reverse("admin:agency_agencyanswer_document", args=[document.answer_id, document.pk])
        return format_html('<a href="{}">{}</a>', url, document.original_name)


@admin.register(AgencyAnswer)
class AgencyAnswerAdmin(ReadOnlyAdmin):
    list_display = ["answered_at", "case", "request_subject", "author", "files", "withdrawn_at"]
    list_filter = ["answered_at"]
    search_fields = ["case__case_number", "request_id"]
    list_select_related = ["case", "author"]
    date_hierarchy = "answered_at"
    fields = [
        "case",
        "request_id",
        "request_subject",
        "request_asked_on",
        "author",
        "text",
        "answered_at",
        "withdrawn_at",
    ]
    readonly_fields = fields
    inlines = [AnswerDocumentInline]

    @admin.display(description="pièces jointes")
    def files(self, answer: AgencyAnswer) -> str:
        return format_html_join(", ", "{}", ((d.original_name,) for d in answer.documents.all())) or "—"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("documents")

    def get_urls(self):
        # Before the default ones: "<path:object_id>/" would take this path for an object id.
        return [
            path(
                "<int:answer_id>/pieces/<int:document_id>/",
                self.admin_site.admin_view(self.document_view),
                name="agency_agencyanswer_document",
            ),
            *super().get_urls(),
        ]

    def document_view(self, request: HttpRequest, answer_id: int, document_id: int) -> FileResponse:
        """One file of an answer, as an attachment with the type its content was found to be."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        document = AnswerDocument.objects.filter(pk=document_id, answer_id=answer_id).first()
        if document is None:
            raise Http404
        response = FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=document.original_name,
            content_type=document.content_type,
        )
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response
