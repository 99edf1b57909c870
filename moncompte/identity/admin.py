from django.contrib import admin, messages

from moncompte.identity import places, services
from moncompte.identity.models import CorrectionRequest, Person
from moncompte.journal.admin import ReadOnlyAdmin


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["birth_name", "usage_name", "given_names", "birth_date", "birthplace_label"]
    search_fields = ["birth_name", "usage_name", "nir", "provisional_id"]
    fields = [
        "nir_masked",
        "provisional_id",
        *services.CORRECTABLE_FIELDS,
        "birthplace_label",
        "birth_country_label",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [
        "nir_masked",
        "provisional_id",
        "birthplace_label",
        "birth_country_label",
        "created_at",
        "updated_at",
    ]

    @admin.display(description="lieu de naissance")
    def birthplace_label(self, obj):
        """The commune's name as it was at the birth date, or the country for someone born abroad."""
        if obj.birthplace:
            return places.commune_label(obj.birthplace, obj.birth_date)
        return places.country_label(obj.birth_country) or "—"

    @admin.display(description="pays de naissance")
    def birth_country_label(self, obj):
        return places.country_label(obj.birth_country) or "—"

    def has_add_permission(self, request):
        return False  # people come from the agency's systems (legacy import), never typed in here

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Through the service, so the correction is journaled (before/after) and can be undone."""
        changes = {
            field: form.cleaned_data[field] for field in form.changed_data if field in services.CORRECTABLE_FIELDS
        }
        services.person_correct(person=obj, changes=changes, agent_account_id=request.user.pk)


@admin.register(CorrectionRequest)
class CorrectionRequestAdmin(ReadOnlyAdmin):  # the action below is the only change, through the service
    """« Signaler une erreur »: agents read the request, correct the person's data, then mark it handled (an action,
    so the change goes through the service and its journal entry)."""

    list_display = ["created_at", "person", "topic", "status", "handled_at"]
    list_filter = ["status", "topic"]
    search_fields = ["person__birth_name", "person__usage_name", "person__given_names"]
    date_hierarchy = "created_at"
    ordering = ["status", "-created_at"]
    list_select_related = ["person"]
    fields = ["person", "topic", "message", "status", "created_at", "handled_at"]
    readonly_fields = fields
    actions = ["mark_done"]

    @admin.action(description="Marquer comme traitées")
    def mark_done(self, request, queryset):
        count = 0
        for correction in queryset.filter(status=CorrectionRequest.Status.OPEN):
            services.correction_request_mark_done(request=correction, agent_account_id=request.user.pk)
            count += 1
        self.message_user(request, f"{count} signalement(s) marqué(s) comme traité(s).", messages.SUCCESS)
