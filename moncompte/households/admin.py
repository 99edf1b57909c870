from django.contrib import admin, messages
from django.utils.html import format_html_join

from moncompte.households.models import (
    Case,
    Delegation,
    Invitation,
    Membership,
    SeparationRequest,
    SignupRequest,
)
from moncompte.households.separation import SeparationError, separation_process, separation_processing_undo
from moncompte.identity.models import Person
from moncompte.journal.admin import ReadOnlyAdmin


class MembershipInline(admin.TabularInline):
    """Shown, not edited: a household changes through the services (import, separation), which journal it."""

    model = Membership
    extra = 0
    fields = ["person", "role", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    """Read-only: cases come from the import and change through the services (separation), which journal it."""

    list_display = ["case_number", "created_at"]
    search_fields = ["case_number"]
    exclude = ["pin_hash"]
    readonly_fields = ["pin_changed_at"]
    inlines = [MembershipInline]


@admin.register(Delegation)
class DelegationAdmin(ReadOnlyAdmin):
    list_display = ["case", "partner", "origin", "granted_at", "revoked_at"]
    list_filter = ["origin"]
    search_fields = ["case__case_number"]
    list_select_related = ["case", "partner"]
    fields = ["case", "partner", "origin", "granted_by", "granted_at", "revoked_by", "revoked_at"]
    readonly_fields = fields


@admin.register(SignupRequest)
class SignupRequestAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "case", "person", "status", "decided_at"]
    list_filter = ["status"]
    search_fields = ["case__case_number"]
    list_select_related = ["case", "person"]
    fields = ["case", "person", "medium", "status", "created_at", "decided_by", "decided_at"]
    readonly_fields = fields


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "case", "person", "origin", "medium", "expires_at", "used_at", "revoked_at"]
    list_filter = ["origin", "medium"]
    search_fields = ["case__case_number"]
    list_select_related = ["case", "person"]
    # Never the token's hash; the destination stays in the database, for the support team.
    fields = ["case", "person", "origin", "created_by", "medium", "created_at", "expires_at", "used_at", "revoked_at"]
    readonly_fields = fields


@admin.register(SeparationRequest)
class SeparationRequestAdmin(ReadOnlyAdmin):
    """Agents process a declared separation with the action "Traiter la séparation" (through the service, which
    creates the new case, moves the members, ends the delegation, journals and notifies), and may undo it."""

    list_display = ["created_at", "case", "leaving", "separation_date", "status", "new_case", "processed_at"]
    list_filter = ["status"]
    search_fields = ["case__case_number"]
    ordering = ["status", "-created_at"]
    list_select_related = ["case", "leaving", "new_case"]
    fields = [
        "case",
        "declared_by",
        "created_at",
        "separation_date",
        "leaving",
        "new_address",
        "children_residence",
        "status",
        "processed_at",
        "new_case",
    ]
    readonly_fields = fields
    actions = ["process", "undo_processing"]

    @admin.display(description="résidence des enfants")
    def children_residence(self, obj: SeparationRequest):
        if not obj.children:
            return "—"
        people = Person.objects.in_bulk([int(pk) for pk in obj.children])
        labels = dict(SeparationRequest.ChildrenLive.choices)
        rows = [
            (str(people[int(pk)]) if int(pk) in people else f"#{pk}", labels.get(choice, choice))
            for pk, choice in obj.children.items()
        ]
        return format_html_join("", "<p>{} : {}</p>", rows)

    def has_process_permission(self, request) -> bool:
        """Processing (or undoing) a separation changes the household: for agents allowed to change declarations, not
        for those who may only read them."""
        return request.user.has_perm("households.change_separationrequest")

    @admin.action(description="Traiter la séparation", permissions=["process"])
    def process(self, request, queryset):
        skipped = queryset.exclude(status=SeparationRequest.Status.PENDING).count()
        for separation in queryset.filter(status=SeparationRequest.Status.PENDING).order_by("created_at"):
            try:
                new_case = separation_process(request=separation, agent_account_id=request.user.pk)
            except SeparationError as error:
                self.message_user(request, f"Dossier {separation.case.case_number} : {error.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Séparation du dossier {separation.case.case_number} traitée : nouveau dossier "
                    f"n° {new_case.case_number}.",
                    messages.SUCCESS,
                )
        if skipped:
            self.message_user(
                request, f"{skipped} déclaration(s) déjà traitée(s) ou annulée(s) : ignorée(s).", messages.WARNING
            )

    @admin.action(description="Annuler le traitement de la séparation", permissions=["process"])
    def undo_processing(self, request, queryset):
        for separation in queryset.filter(status=SeparationRequest.Status.PROCESSED):
            try:
                separation_processing_undo(request=separation)
            except SeparationError as error:
                self.message_user(request, f"Dossier {separation.case.case_number} : {error.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Traitement de la séparation du dossier {separation.case.case_number} annulé : la déclaration "
                    "est de nouveau à traiter. L'allocataire et son conjoint en sont informés.",
                    messages.SUCCESS,
                )
