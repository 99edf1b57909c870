"""Forms of the household pages. They check what was typed; the services check the household's facts again."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from moncompte.households.models import Membership, SeparationRequest
from moncompte.households.separation import separation_date_error

GRANT, REVOKE = "grant", "revoke"


class DelegationForm(forms.Form):
    """The holder's button: grant the delegation to the partner named in the page (their id, checked against the
    case's partner when the form is sent), or revoke it."""

    action = forms.ChoiceField(
        choices=[(GRANT, _("Accorder")), (REVOKE, _("Retirer"))],
        error_messages={
            "required": _("Choisissez d'accorder ou de retirer la délégation."),
            "invalid_choice": _("Choisissez d'accorder ou de retirer la délégation."),
        },
    )
    partner = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        error_messages={"invalid": _("Cette personne n'est pas le conjoint de ce dossier.")},
    )

    def clean(self):
        data = super().clean()
        if data.get("action") == GRANT and not data.get("partner"):
            raise forms.ValidationError(_("Cette personne n'est pas le conjoint de ce dossier."))
        return data


class SeparationForm(forms.Form):
    """Date, who leaves, their new address, and where each child of the case will live.

    `couple`: the holder's and the partner's memberships with the label to show for each (a person whose access is
    limited to their own data reads "the holder", not the holder's name). `children`: (membership, label) pairs."""

    separation_date = forms.DateField(
        label=_("Date de la séparation"),
        help_text=_("Format attendu : JJ/MM/AAAA"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Indiquez la date de la séparation."),
            "invalid": _("Saisissez une date valide, par exemple 14/03/2024."),
        },
    )
    leaving = forms.TypedChoiceField(
        label=_("Qui quitte le logement ?"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Indiquez qui quitte le logement."),
            "invalid_choice": _("Choisissez l'allocataire ou son conjoint : cette personne n'est pas dans la liste."),
        },
    )
    new_address = forms.CharField(
        label=_("Nouvelle adresse de la personne qui part"),
        help_text=_("Numéro, rue, code postal et commune"),
        max_length=500,
        min_length=10,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
        error_messages={
            "required": _("Indiquez la nouvelle adresse de la personne qui part."),
            "min_length": _(
                "Cette adresse est trop courte : indiquez le numéro, la rue, le code postal et la commune."
            ),
            "max_length": _("Cette adresse est trop longue (500 caractères au plus)."),
        },
    )

    def __init__(self, *args, couple: list[tuple[Membership, str]], children: list[tuple[Membership, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leaving"].choices = [(membership.person_id, label) for membership, label in couple]
        self.children = children
        for membership, label in children:
            self.fields[self.child_field(membership)] = forms.ChoiceField(
                label=label,
                choices=SeparationRequest.ChildrenLive.choices,
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Indiquez avec qui vivra cet enfant."),
                    "invalid_choice": _("Indiquez avec qui vivra cet enfant."),
                },
            )

    @staticmethod
    def child_field(membership: Membership) -> str:
        return f"child_{membership.person_id}"

    def child_fields(self):
        return [self[self.child_field(membership)] for membership, _label in self.children]

    def clean_separation_date(self):
        value = self.cleaned_data["separation_date"]
        error = separation_date_error(value)
        if error:
            raise forms.ValidationError(error)
        return value

    def clean_new_address(self):
        # One line per line of the address, no blank lines or trailing spaces.
        lines = [" ".join(line.split()) for line in self.cleaned_data["new_address"].splitlines()]
        return "\n".join(line for line in lines if line)

    def residence(self) -> dict[str, str]:
        """{person id: "staying" | "leaving"} for the service."""
        return {
            str(membership.person_id): self.cleaned_data[self.child_field(membership)]
            for membership, _label in self.children
        }
