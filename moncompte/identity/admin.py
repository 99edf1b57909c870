from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.debug import sensitive_post_parameters

from moncompte.identity import linking, places, services
from moncompte.identity.models import CorrectionRequest, Person, Sex
from moncompte.identity.nir import NIR_WITH_KEY_LENGTH, NirError, normalise_nir, parse_nir
from moncompte.identity.provisional import provisional_grouped
from moncompte.journal.admin import ReadOnlyAdmin


class NirLinkForm(forms.Form):
    """« Rattacher un NIR »: the NIR with its key (a typo in 13 characters would go unseen), checked against what the
    registry knows of the person (sex and birth year), and why."""

    nir = forms.CharField(
        label="Numéro de Sécurité sociale, avec la clé",
        help_text="15 caractères, tels qu'ils figurent sur la carte Vitale ou l'attestation de droits.",
        max_length=40,
    )
    reason = forms.CharField(
        label="Motif",
        help_text=(
            "D'où vient le numéro (attestation de droits présentée au guichet, échange avec l'Assurance maladie…)."
        ),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, person: Person, **kwargs):
        self.person = person
        super().__init__(*args, **kwargs)

    def clean_nir(self):
        raw = self.cleaned_data["nir"]
        if len(normalise_nir(raw)) != NIR_WITH_KEY_LENGTH:
            raise forms.ValidationError("Saisissez le numéro complet, avec sa clé : 15 caractères.")
        try:
            nir = parse_nir(raw)
        except NirError as error:
            raise forms.ValidationError(error.message) from None
        person = self.person
        # Odd sex digits (1, 3, 7) are men's numbers, even ones (2, 4, 8) women's.
        if (int(nir.sex) % 2 == 1) != (person.sex == Sex.MALE):
            raise forms.ValidationError(
                "Ce numéro est celui d'une personne de l'autre sexe que celle de la fiche : vérifiez le numéro, ou "
                "corrigez d'abord la fiche."
            )
        if nir.year != f"{person.birth_date.year % 100:02d}":
            raise forms.ValidationError(
                "L'année de naissance de ce numéro (2e et 3e chiffres) n'est pas celle de la fiche : vérifiez le "
                "numéro, ou corrigez d'abord la fiche."
            )
        return nir


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    """The NIR and the provisional identifier are read-only: a NIR is given to someone who had only a provisional
    identifier by « Rattacher un NIR » (`identity.linking.link_nir`: the identifier retired, the account's login id
    renamed, the person told, journaled and undoable), never typed into the form."""

    list_display = ["birth_name", "usage_name", "given_names", "birth_date", "birthplace_label"]
    search_fields = ["birth_name", "usage_name", "nir", "provisional_id", "retired_provisional_id"]
    actions = ["link_nir"]
    change_form_template = "admin/identity/person/change_form.html"
    fields = [
        "nir_masked",
        "provisional_id",
        "retired_provisional_id",
        *services.CORRECTABLE_FIELDS,
        "birthplace_label",
        "birth_country_label",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [
        "nir_masked",
        "provisional_id",
        "retired_provisional_id",
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

    # --- « Rattacher un NIR » ----------------------------------------------------------------------------------------

    def get_urls(self):
        # Before the default ones: "<path:object_id>/" would take this path for an object id.
        return [
            path(
                "<path:object_id>/rattacher-nir/",
                self.admin_site.admin_view(sensitive_post_parameters("nir")(self.link_nir_view)),
                name="identity_person_link_nir",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        person = self.get_object(request, unquote(object_id))
        can_link = person is not None and not person.nir and self.has_change_permission(request, person)
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "can_link_nir": can_link})

    @admin.action(description="Rattacher un NIR", permissions=["change"])
    def link_nir(self, request, queryset):
        """For one person who has only a provisional identifier: the page that asks for the NIR."""
        people = list(queryset[:2])
        if len(people) != 1:
            self.message_user(request, "Sélectionnez une seule personne pour lui rattacher un NIR.", messages.ERROR)
            return None
        if people[0].nir:
            self.message_user(request, "Cette personne a déjà un NIR.", messages.ERROR)
            return None
        return redirect(reverse("admin:identity_person_link_nir", args=[people[0].pk]))

    def link_nir_view(self, request, object_id):
        """The intermediate form of « Rattacher un NIR », then `identity.linking.link_nir`."""
        person = self.get_object(request, unquote(object_id))
        if person is None:
            raise Http404
        if not self.has_change_permission(request, person):
            raise PermissionDenied
        if person.nir:
            self.message_user(request, "Cette personne a déjà un NIR.", messages.ERROR)
            return redirect("admin:identity_person_change", person.pk)
        form = NirLinkForm(request.POST if request.method == "POST" else None, person=person)
        if request.method == "POST" and form.is_valid():
            try:
                linking.link_nir(
                    person,
                    form.cleaned_data["nir"],
                    by=linking.BY_AGENT,
                    agent_account_id=request.user.pk,
                    reason=form.cleaned_data["reason"],
                )
            except linking.LinkRefused as refusal:
                form.add_error("nir", str(refusal.message))
            else:
                self.message_user(
                    request,
                    "NIR rattaché. L'identifiant provisoire est retiré : la personne se connecte désormais avec son "
                    "NIR, et ses coordonnées validées en sont prévenues.",
                    messages.SUCCESS,
                )
                return redirect("admin:identity_person_change", person.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": person,
            "provisional_id": provisional_grouped(person.provisional_id or ""),
            "form": form,
            "title": "Rattacher un NIR",
        }
        return TemplateResponse(request, "admin/identity/person/link_nir.html", context)


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
