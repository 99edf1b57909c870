"""The security team's screens: incidents with their timeline, the closures of the service, and the actions that
close and reopen every channel. Every change goes through `incidents.services` (journaled, on the timeline)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone

from moncompte.incidents import services
from moncompte.incidents.models import Closure, DataCategory, Incident, Notice, Step, WorkItem
from moncompte.journal.admin import ReadOnlyAdmin


class IncidentForm(forms.ModelForm):
    categories = forms.MultipleChoiceField(
        label="Catégories de données",
        choices=DataCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Incident
        fields = ["title", "description", "detected_at", "window_start", "window_end", "categories", "status",
                  "consequences", "public_summary", "authority_notified_at"]  # fmt: skip

    def clean(self):
        """What the services would refuse, said beside the field (the services check it again)."""
        data = super().clean()
        now = timezone.now()
        if data.get("window_start"):
            try:
                services.window_check(data["window_start"], data.get("window_end"), now=now)
            except services.IncidentError as error:
                self.add_error("window_end" if data.get("window_end") else "window_start", str(error))
        for name in ("detected_at", "authority_notified_at"):
            if name in self.fields and data.get(name) and data[name] > now:
                self.add_error(name, "Cette date ne peut pas être dans le futur.")
        return data


class StepInline(admin.TabularInline):
    model = Step
    fields = ["at", "kind", "text", "figures", "actor"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CloseForm(forms.Form):
    reason = forms.CharField(
        label="Motif",
        help_text="Inscrit au journal et à la chronologie de l'incident ; le public voit la page de maintenance.",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _actor(request) -> str:
    return request.user.get_username()


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    form = IncidentForm
    list_display = ["reference", "title", "status", "detected_at", "window_start", "window_end"]
    list_filter = ["status"]
    inlines = [StepInline]
    actions = ["close_service", "reopen_service"]

    def has_delete_permission(self, request, obj=None):
        return False  # an incident's record is kept

    def get_readonly_fields(self, request, obj=None):
        # What was declared when the incident was opened stays as it was: later knowledge goes in a note.
        return ["title", "description", "detected_at"] if obj is not None else []

    def has_close_service_permission(self, request):
        return request.user.has_perm("incidents.close_service")

    def save_model(self, request, obj, form, change):
        """Through the services, so each change is journaled and on the timeline."""
        data = form.cleaned_data
        if not change:
            created = services.incident_open(
                title=data["title"],
                description=data["description"],
                detected_at=data["detected_at"],
                window_start=data["window_start"],
                window_end=data.get("window_end"),
                categories=data["categories"],
                actor=_actor(request),
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        wanted = {
            field: data[field]
            for field in ("window_start", "window_end", "categories", "status", "consequences", "public_summary")
            if field in form.changed_data
        }
        if "authority_notified_at" in form.changed_data and data["authority_notified_at"]:
            wanted["authority_notified_at"] = data["authority_notified_at"]
        services.incident_update(Incident.objects.get(pk=obj.pk), actor=_actor(request), **wanted)
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        pass  # the timeline is written by the services only

    @admin.action(description="Fermer tous les canaux (site, application, téléphone)", permissions=["close_service"])
    def close_service(self, request, queryset):
        incidents = list(queryset[:2])
        if len(incidents) != 1:
            self.message_user(request, "Sélectionnez l'incident qui motive la fermeture, et lui seul.", messages.ERROR)
            return None
        form = CloseForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                services.service_close(
                    reason=form.cleaned_data["reason"], actor=_actor(request), incident=incidents[0]
                )
            except services.IncidentError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(
                    request,
                    "Tous les canaux sont fermés : chaque processus répond la page de maintenance d'ici quelques "
                    "secondes. L'administration reste ouverte.",
                    messages.SUCCESS,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Fermer tous les canaux",
            "incident": incidents[0],
            "form": form,
            "queryset": queryset,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/incidents/incident/close_service.html", context)

    @admin.action(description="Rouvrir tous les canaux", permissions=["close_service"])
    def reopen_service(self, request, queryset):
        try:
            closure = services.service_reopen(actor=_actor(request))
        except services.IncidentError as error:
            self.message_user(request, str(error), messages.ERROR)
        else:
            self.message_user(
                request, f"Tous les canaux sont rouverts (fermés depuis le {closure.closed_at:%d/%m/%Y %H:%M})."
            )


@admin.register(Closure)
class ClosureAdmin(ReadOnlyAdmin):
    list_display = ["closed_at", "reopened_at", "closed_by", "reopened_by", "incident", "reason"]
    list_select_related = ["incident"]


@admin.register(WorkItem)
class WorkItemAdmin(ReadOnlyAdmin):
    """What the cancellation of a window left to agents: actions to undo by hand, messages already sent."""

    list_display = ["at", "kind", "what", "person_id", "case_number", "reason", "done_at", "done_by"]
    list_filter = ["kind", "incident", ("done_at", admin.EmptyFieldListFilter)]
    search_fields = ["what", "case_number", "=person_id"]
    actions = ["mark_done"]

    def has_mark_done_permission(self, request):
        return request.user.has_perm("incidents.change_incident")

    @admin.action(description="Marquer comme traité", permissions=["mark_done"])
    def mark_done(self, request, queryset):
        count = services.work_items_done(list(queryset.filter(done_at__isnull=True)), actor=_actor(request))
        self.message_user(request, f"{count} tâche(s) marquée(s) comme traitée(s).")


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    """Who was told, when, by which messages: one notice per person and incident."""

    list_display = ["created_at", "incident", "person_id", "cancelled", "messages"]
    list_filter = ["incident"]
    search_fields = ["=person_id"]
