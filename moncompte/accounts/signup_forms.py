"""Forms of the member signup and invitation pages."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from moncompte.accounts.forms import ContactForm, NewPasswordForm, NirField, code_field
from moncompte.households import policy
from moncompte.identity.models import Person
from moncompte.lib import dates
from moncompte.messaging.models import Medium
from moncompte.verification.models import Purpose
from moncompte.verification.services import mask_destination

#: The start page's third choice: the agency holds no contact for me, I type one and the holder approves.
NO_CONTACT_ON_FILE = "none"
EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)


class BirthDateField(forms.DateField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Date de naissance"))
        kwargs.setdefault("help_text", _("Format attendu : JJ/MM/AAAA"))
        kwargs.setdefault("input_formats", ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"])
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"))
        kwargs.setdefault(
            "error_messages",
            {
                "required": _("Saisissez votre date de naissance."),
                "invalid": _("Saisissez une date de naissance valide, par exemple 14/07/2008."),
            },
        )
        super().__init__(**kwargs)

    def clean(self, value):
        day = super().clean(value)
        if day is not None and (day > timezone.localdate() or day < EARLIEST_BIRTH_DATE):
            raise ValidationError(gettext("Saisissez une date de naissance valide, par exemple 14/07/2008."))
        return day


class SignupStartForm(forms.Form):
    identifier = NirField()
    birth_date = BirthDateField()
    given_name = forms.CharField(
        label=_("Prénom"),
        help_text=_("Votre premier prénom, tel qu'il figure sur votre carte Vitale"),
        max_length=100,
        error_messages={
            "required": _("Saisissez votre prénom."),
            "max_length": _("Ce prénom est trop long."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    medium = forms.ChoiceField(
        label=_("Où souhaitez-vous recevoir votre code ?"),
        choices=[
            (Medium.SMS, _("Par SMS, sur mon mobile connu de la Caf")),
            (Medium.EMAIL, _("Par e-mail, à mon adresse connue de la Caf")),
            (
                NO_CONTACT_ON_FILE,
                _("La Caf n'a ni mon e-mail ni mon mobile : je les indique, et l'allocataire approuvera ma demande"),
            ),
        ],
        widget=forms.RadioSelect,
        initial=Medium.SMS,
        error_messages={
            "required": _("Choisissez où recevoir votre code."),
            "invalid_choice": _("Choisissez où recevoir votre code."),
        },
    )

    def clean_birth_date(self):
        """Under 15 on the day: refused here, from the date typed alone (nothing about who is known)."""
        birth_date = self.cleaned_data["birth_date"]
        if not policy.may_have_account(Person(birth_date=birth_date)):
            raise ValidationError(
                gettext(
                    "Il faut avoir 15 ans ou plus pour créer son propre compte. Vous pourrez le créer à partir du "
                    "%(date)s. D'ici là, c'est l'allocataire qui s'occupe du dossier du foyer auprès de la Caf."
                )
                % {"date": formats.date_format(fifteenth_birthday(birth_date), "j F Y")},
                code="under_age",
            )
        return birth_date


def fifteenth_birthday(birth_date: datetime.date) -> datetime.date:
    """The day a member may open their account (born on 29 February: 1 March in common years, as `age_on` counts)."""
    return dates.years_after(birth_date, settings.MEMBER_ACCOUNT_MIN_AGE)


class SignupCodeForm(NewPasswordForm):
    """The code received at the contact on file, and the new password."""

    code = code_field(Purpose.SIGNUP)
    field_order = ["code", "password1", "password2"]

    def clean_code(self):
        return "".join(self.cleaned_data["code"].split())


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


class InvitationAcceptForm(NewPasswordForm):
    """The invitee confirms their birth date (a forwarded link alone is not enough), then chooses their password.

    The password rules check it here against what the page shows and the date typed, never against the invitee's
    record: a refusal for their real birth date or surname would tell whoever holds the link what they are, without
    costing a try of the birth date. The view checks the date, then the service the rules against the record."""

    birth_date = BirthDateField()
    field_order = ["birth_date", "password1", "password2"]

    def __init__(self, *args, first_name: str, **kwargs):
        super().__init__(*args, account=SimpleNamespace(given_names=first_name, birth_date=None), **kwargs)

    def clean_password1(self):
        self.account.birth_date = self.cleaned_data.get("birth_date")
        return super().clean_password1()


class InvitationCodeForm(forms.Form):
    """The code of an invitation sent by SMS (an SMS carries no link): typed on the site, it opens the same page as
    an e-mail's link."""

    code = forms.CharField(
        label=_("Code d'invitation"),
        help_text=_("10 lettres et chiffres, tel qu'il figure dans le SMS reçu, par exemple ABCDE-23456"),
        max_length=40,
        error_messages={
            "required": _("Saisissez le code d'invitation reçu par SMS."),
            "max_length": _("Ce code est trop long : le code d'invitation comporte 10 lettres et chiffres."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.pop("maxlength", None)  # the server says what is wrong; no silent cut


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("Approuver")), ("refuse", _("Refuser"))],
        error_messages={
            "required": _("Choisissez d'approuver ou de refuser la demande."),
            "invalid_choice": _("Choisissez d'approuver ou de refuser la demande."),
        },
    )
