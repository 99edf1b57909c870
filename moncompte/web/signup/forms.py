"""Forms of the member signup and invitation pages."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from moncompte.households import policy
from moncompte.identity.models import Person
from moncompte.messaging.models import Medium
from moncompte.verification.models import Purpose
from moncompte.web.forms import NewPasswordForm, NirField, code_field

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
                % {"date": formats.date_format(policy.account_opening_date(birth_date), "j F Y")},
                code="under_age",
            )
        return birth_date


class SignupCodeForm(NewPasswordForm):
    """The code received at the contact on file, and the new password."""

    code = code_field(Purpose.SIGNUP)
    field_order = ["code", "password1", "password2"]

    def clean_code(self):
        return "".join(self.cleaned_data["code"].split())


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
