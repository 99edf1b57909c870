"""Forms of the household pages. They check what was typed; the services check the household's facts again."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from moncompte.households.models import Membership, SeparationRequest
from moncompte.households.separation import separation_date_error
from moncompte.messaging.models import Medium
from moncompte.verification.services import mask_destination
from moncompte.web.forms import ContactForm

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


class InviteForm(ContactForm):
    """Where the invitation goes (issue 8, item 2): first the invitee's contacts on file, masked (the holder never
    reads them in full), then an address or a mobile number the holder types (validated like a contact).

    `on_file`: {medium: destination} of the invitee (`invitations.contacts_on_file`). Cleaned data: `medium` (e-mail
    or SMS), `destination`, and `on_file` (whether it is one the agency holds for the invitee)."""

    ON_FILE_EMAIL, ON_FILE_SMS = "on_file_email", "on_file_sms"
    ON_FILE_CHOICES = {ON_FILE_EMAIL: Medium.EMAIL, ON_FILE_SMS: Medium.SMS}

    medium = forms.ChoiceField(
        label=_("Où envoyer l'invitation ?"),
        choices=ContactForm.base_fields["medium"].choices,
        widget=forms.RadioSelect,
        error_messages=ContactForm.base_fields["medium"].error_messages,
    )
    missing_email = _("Saisissez l'adresse e-mail de la personne invitée.")

    def __init__(self, *args, on_file: dict[str, str] | None = None, **kwargs):
        self.on_file = dict(on_file or {})
        super().__init__(*args, **kwargs)
        choices = []
        if Medium.EMAIL in self.on_file:
            label = gettext("Par e-mail, à son adresse connue de la Caf : %(destination)s")
            choices.append((self.ON_FILE_EMAIL, label % {"destination": mask_destination(self.on_file[Medium.EMAIL])}))
        if Medium.SMS in self.on_file:
            label = gettext("Par SMS, à son mobile connu de la Caf : %(destination)s")
            choices.append((self.ON_FILE_SMS, label % {"destination": mask_destination(self.on_file[Medium.SMS])}))
        if choices:
            choices += [
                (Medium.EMAIL, _("Par e-mail, à une autre adresse que j'indique")),
                (Medium.SMS, _("Par SMS, à un autre numéro que j'indique")),
            ]
        else:
            choices = [
                (Medium.EMAIL, _("Par e-mail, à une adresse que j'indique")),
                (Medium.SMS, _("Par SMS, à un numéro que j'indique")),
            ]
        self.fields["medium"].choices = choices

    def clean(self):
        choice = self.cleaned_data.get("medium")
        if choice in self.ON_FILE_CHOICES:
            # The contact on file: whatever was typed in the address and number fields does not matter.
            for name in ("email", "mobile"):
                self._errors.pop(name, None)
            medium = self.ON_FILE_CHOICES[choice]
            self.cleaned_data.update(medium=medium, destination=self.on_file[medium], on_file=True)
            return self.cleaned_data
        cleaned = super().clean()
        cleaned["on_file"] = False
        return cleaned


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("Approuver")), ("refuse", _("Refuser"))],
        error_messages={
            "required": _("Choisissez d'approuver ou de refuser la demande."),
            "invalid_choice": _("Choisissez d'approuver ou de refuser la demande."),
        },
    )
