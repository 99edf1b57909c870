"""Forms of "Mes informations": report an error, change a contact."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from moncompte.accounts.models import Account
from moncompte.accounts.services import contact_field
from moncompte.identity.models import CorrectionRequest
from moncompte.identity.phones import PhoneError, parse_mobile
from moncompte.identity.services import CORRECTION_MESSAGE_MAX_LENGTH
from moncompte.messaging.models import Medium


class CorrectionForm(forms.Form):
    topic = forms.ChoiceField(
        label=_("Quelle information est inexacte ?"),
        choices=CorrectionRequest.Topic.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choisissez l'information concernée."),
            "invalid_choice": _("Choisissez l'information concernée."),
        },
    )
    message = forms.CharField(
        label=_("Décrivez l'erreur"),
        max_length=CORRECTION_MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={
            "required": _("Décrivez l'erreur à corriger."),
            "max_length": _(
                "Votre description est trop longue : %(limit_value)d caractères au plus (vous en avez "
                "saisi %(show_value)d)."
            ),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["message"].widget.attrs.pop("maxlength", None)  # the server says what is wrong; no silent cut
        self.fields["message"].help_text = gettext(
            "Indiquez ce qui est inexact et la bonne information (%(max)s caractères au plus)."
        ) % {"max": CORRECTION_MESSAGE_MAX_LENGTH}


class ContactChangeForm(forms.Form):
    """A new e-mail address or mobile number (one of them, chosen by the page)."""

    def __init__(self, *args, account: Account, medium: str, **kwargs):
        self.account = account
        self.medium = medium
        super().__init__(*args, **kwargs)
        if medium == Medium.EMAIL:
            self.fields["value"] = forms.EmailField(
                label=_("Nouvelle adresse e-mail"),
                help_text=_("Format attendu : nom@domaine.fr"),
                max_length=254,
                error_messages={
                    "required": _("Saisissez votre nouvelle adresse e-mail."),
                    "invalid": _("Saisissez une adresse e-mail valide, par exemple nom@domaine.fr."),
                    "max_length": _("Cette adresse e-mail est trop longue."),
                },
                widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
            )
        else:
            self.fields["value"] = forms.CharField(
                label=_("Nouveau numéro de téléphone mobile"),
                help_text=_("Par exemple 06 12 34 56 78, ou +262 692 12 34 56 outre-mer"),
                max_length=30,
                error_messages={
                    "required": _("Saisissez votre nouveau numéro de mobile."),
                    "max_length": _("Ce numéro de téléphone est trop long."),
                },
                widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            )
        self.fields["value"].widget.attrs.pop("maxlength", None)

    def clean_value(self) -> str:
        value = self.cleaned_data["value"]
        if self.medium == Medium.EMAIL:
            value = value.strip().lower()
        else:
            try:
                value = parse_mobile(value)
            except PhoneError as error:
                raise ValidationError(error.message, code="invalid_mobile") from None
        field, verified_field = contact_field(self.medium)
        if getattr(self.account, verified_field) and getattr(self.account, field) == value:
            raise ValidationError(
                gettext("C'est déjà votre adresse e-mail actuelle : saisissez la nouvelle.")
                if self.medium == Medium.EMAIL
                else gettext("C'est déjà votre numéro de mobile actuel : saisissez le nouveau."),
                code="same_contact",
            )
        return value


class ReportForm(forms.Form):
    """« Ce n'était pas moi » from the security history: the entry disowned."""

    entry = forms.IntegerField(min_value=1)
