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
from moncompte.identity import places
from moncompte.identity.models import FRANCE, Person
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


# --- New applicants (« Faire une demande » without an account) ------------------------------------------------------

BORN_IN_FRANCE, BORN_ABROAD = "france", "abroad"


class OptionalNirField(NirField):
    def clean(self, value):
        return "" if not str(value or "").strip() else super().clean(value)


class ApplicantIdentityForm(forms.Form):
    """The civil status of someone the agency does not know yet, as on their identity document. The birthplace is a
    place of the INSEE table: the name typed is looked up; when several places bear it, the person picks theirs."""

    no_nir = forms.BooleanField(label=_("Je n'ai pas encore de numéro de Sécurité sociale"), required=False)
    nir = OptionalNirField(
        required=False,
        help_text=_("13 chiffres, ou 15 avec la clé, tels qu'ils figurent sur votre carte Vitale"),
    )
    birth_name = forms.CharField(
        label=_("Nom de naissance"),
        max_length=100,
        error_messages={"required": _("Saisissez votre nom de naissance.")},
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    usage_name = forms.CharField(
        label=_("Nom d'usage"), help_text=_("Par exemple le nom d'époux ou d'épouse"), max_length=100, required=False
    )
    given_names = forms.CharField(
        label=_("Prénoms"),
        help_text=_("Tous vos prénoms, dans l'ordre de votre pièce d'identité, séparés par un espace"),
        max_length=200,
        error_messages={"required": _("Saisissez vos prénoms.")},
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    sex = forms.ChoiceField(
        label=_("Sexe"),
        choices=Person._meta.get_field("sex").choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Indiquez votre sexe, tel qu'il figure sur votre pièce d'identité.")},
    )
    birth_date = BirthDateField()
    born = forms.ChoiceField(
        label=_("Lieu de naissance"),
        choices=[
            (BORN_IN_FRANCE, _("Je suis né ou née en France (outre-mer compris)")),
            (BORN_ABROAD, _("Je suis né ou née à l'étranger")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Indiquez si vous êtes né en France ou à l'étranger.")},
    )
    birthplace_name = forms.CharField(
        label=_("Commune de naissance"),
        help_text=_("Par exemple Lyon ou Saint-Denis"),
        max_length=100,
        required=False,
    )
    birthplace = forms.CharField(required=False, max_length=5, widget=forms.HiddenInput)
    country_name = forms.CharField(
        label=_("Pays de naissance"),
        help_text=_("Par exemple Maroc"),
        max_length=100,
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.commune_choices: list = []  # several communes bear the name typed: the page lists them

    def clean_birth_date(self):
        birth_date = self.cleaned_data["birth_date"]
        if not policy.may_have_account(Person(birth_date=birth_date)):
            raise ValidationError(
                gettext("Il faut avoir 15 ans ou plus pour ouvrir son propre compte."), code="under_age"
            )
        return birth_date

    def clean(self):
        data = super().clean()
        if data.get("no_nir"):
            data["nir"] = ""
        elif not data.get("nir") and "nir" not in self.errors:
            self.add_error(
                "nir",
                gettext("Saisissez votre numéro de Sécurité sociale, ou cochez « Je n'ai pas encore de numéro »."),
            )
        if data.get("born") == BORN_IN_FRANCE:
            data["birth_country"] = FRANCE
            data["birthplace"] = self._commune(data.get("birthplace_name", ""), data.get("birthplace", ""))
        elif data.get("born") == BORN_ABROAD:
            data["birthplace"] = ""
            data["birth_country"] = self._country(data.get("country_name", ""))
        return data

    def _commune(self, name: str, chosen: str) -> str:
        if not name.strip():
            self.add_error("birthplace_name", gettext("Saisissez votre commune de naissance."))
            return ""
        found = places.search_communes(name, limit=12, include_former=True)
        exact = [p for p in found if places.fold(p.name) == places.fold(name)]
        candidates = exact or found
        if chosen in {p.code for p in candidates}:
            return chosen
        if len(candidates) == 1:
            return candidates[0].code
        if not candidates:
            self.add_error(
                "birthplace_name",
                gettext(
                    "Nous ne trouvons pas cette commune : vérifiez son orthographe, ou indiquez son nom à la date de "
                    "votre naissance."
                ),
            )
        else:
            self.commune_choices = candidates
            self.add_error("birthplace_name", gettext("Plusieurs communes portent ce nom : choisissez la vôtre."))
        return ""

    def _country(self, name: str) -> str:
        if not name.strip():
            self.add_error("country_name", gettext("Saisissez votre pays de naissance."))
            return ""
        found = [p for p in places.search_countries(name, limit=5) if p.code != FRANCE]
        exact = [p for p in found if places.fold(p.name) == places.fold(name)]
        candidates = exact or found
        if len(candidates) == 1:
            return candidates[0].code
        self.add_error(
            "country_name",
            gettext("Nous ne trouvons pas ce pays : saisissez son nom en français, par exemple Maroc ou Portugal.")
            if not candidates
            else gettext("Précisez le pays : %(names)s ?") % {"names": ", ".join(p.name for p in candidates)},
        )
        return ""


class ApplicantCodeForm(NewPasswordForm):
    """The code received at the contact typed, and the password of the new account."""

    code = code_field(Purpose.SIGNUP_CONTACT)
    field_order = ["code", "password1", "password2"]

    def clean_code(self):
        return "".join(self.cleaned_data["code"].split())
