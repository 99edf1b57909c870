"""The form fields and forms every area of the web channel shares: NIR, secrets, new password, contact, code."""

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from moncompte.accounts.validators import password_rules_for_client
from moncompte.identity.nir import NirError, parse_nir
from moncompte.identity.phones import PhoneError, parse_mobile
from moncompte.messaging.models import Medium
from moncompte.verification.models import Purpose
from moncompte.verification.services import code_digits

MAX_SECRET_LENGTH = 128


class IdentifierField(forms.CharField):
    """A login identifier as people type it; `parse` cleans it or raises an error with a French `message` and a
    `code`. The browser may not cut it silently: the server says what is wrong."""

    errors: tuple[type[Exception], ...] = ()

    def parse(self, value: str) -> str:
        raise NotImplementedError

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update(autocomplete="username", spellcheck="false", autocapitalize="characters")
        attrs.pop("maxlength", None)  # the server says what is wrong; a silent cut would hide it
        return attrs

    def clean(self, value):
        value = super().clean(value)
        try:
            return self.parse(value)
        except self.errors as error:
            raise ValidationError(error.message, code=error.code) from None


class NirField(IdentifierField):
    """A NIR as people type it (spaces, dots, 15 characters with the key); cleans to the 13-character value."""

    errors = (NirError,)

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Numéro de Sécurité sociale"))
        kwargs.setdefault("help_text", _("13 caractères"))
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("error_messages", {"required": _("Saisissez votre numéro de Sécurité sociale.")})
        super().__init__(**kwargs)
        self.error_messages["max_length"] = _(
            "Ce numéro est trop long : le numéro de Sécurité sociale a 13 caractères."
        )

    def parse(self, value: str) -> str:
        return parse_nir(value).value


class SecretField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("strip", False)
        kwargs.setdefault("max_length", MAX_SECRET_LENGTH)
        super().__init__(**kwargs)
        self.error_messages["max_length"] = _("Ce mot de passe est trop long.")

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs


class NewPasswordForm(forms.Form):
    """A new personal password, checked against AUTH_PASSWORD_VALIDATORS for this person."""

    password1 = SecretField(
        label=_("Nouveau mot de passe"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Choisissez un mot de passe.")},
    )
    password2 = SecretField(
        label=_("Confirmez le mot de passe"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Saisissez une deuxième fois votre mot de passe.")},
    )

    def __init__(self, *args, account, **kwargs):
        self.account = account
        super().__init__(*args, **kwargs)
        import json

        self.fields["password1"].widget.attrs["data-password-rules"] = json.dumps(password_rules_for_client())

    def clean_password1(self):
        password = self.cleaned_data["password1"]
        validate_password(password, user=self.account)
        return password

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and self.data.get("password2") != self.data.get("password1"):
            self.add_error("password2", gettext("Les deux mots de passe ne sont pas identiques."))
        return cleaned


class ContactForm(forms.Form):
    medium = forms.ChoiceField(
        label=_("Comment souhaitez-vous recevoir votre code ?"),
        choices=[(Medium.EMAIL, _("Par e-mail")), (Medium.SMS, _("Par SMS"))],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choisissez l'e-mail ou le SMS."),
            "invalid_choice": _("Choisissez l'e-mail ou le SMS."),
        },
    )
    email = forms.EmailField(
        label=_("Adresse e-mail"),
        help_text=_("Format attendu : nom@domaine.fr"),
        required=False,
        max_length=254,
        error_messages={"invalid": _("Saisissez une adresse e-mail valide, par exemple nom@domaine.fr.")},
    )
    mobile = forms.CharField(
        label=_("Numéro de téléphone mobile"),
        help_text=_("Par exemple 06 12 34 56 78, ou +262 692 12 34 56 outre-mer"),
        required=False,
        max_length=30,
    )

    missing_email = _("Saisissez votre adresse e-mail.")
    #: Which field the chosen medium requires (both are optional to the form: `clean` requires the chosen one).
    medium_fields = {Medium.EMAIL: "email", Medium.SMS: "mobile"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The field of the medium chosen (posted, or preselected) is announced as required; contact-fields.js moves
        # the mark when the person picks the other medium.
        chosen = self.medium_fields.get(self["medium"].value())
        for medium, name in self.medium_fields.items():
            attrs = self.fields[name].widget.attrs
            attrs["data-required-for"] = medium
            if name == chosen:
                attrs["aria-required"] = "true"

    def clean(self):
        cleaned = super().clean()
        medium = cleaned.get("medium")
        if medium == Medium.EMAIL:
            if not cleaned.get("email") and "email" not in self.errors:
                self.add_error("email", str(self.missing_email))
            cleaned["destination"] = cleaned.get("email", "").lower()
        elif medium == Medium.SMS:
            try:
                cleaned["destination"] = parse_mobile(cleaned.get("mobile", ""))
            except PhoneError as error:
                self.add_error("mobile", error.message)
        return cleaned


def code_field(purpose: str) -> forms.RegexField:
    """The field for a code of `purpose` (6 digits, or 8 for the codes anyone who knows a NIR can ask for)."""
    digits = code_digits(purpose)

    def said(text: str):  # in the reader's language, with this purpose's number of digits
        return lazy(lambda: gettext(text) % {"digits": digits}, str)()

    wrong_length = said(gettext_noop("Le code est composé de %(digits)s chiffres."))
    return forms.RegexField(
        label=_("Code reçu"),
        help_text=said(gettext_noop("%(digits)s chiffres")),
        # ASCII digits (any other "digit" could never match the code), spaces allowed between them
        regex=rf"^\s*[0-9](\s?[0-9]){{{digits - 1}}}\s*$",
        max_length=30,
        error_messages={
            "required": said(gettext_noop("Saisissez le code à %(digits)s chiffres que vous avez reçu.")),
            "invalid": wrong_length,
            "max_length": wrong_length,
        },
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class CodeForm(forms.Form):
    """A code sent after a proof (signed in, the right password, a secret link): OTP_DIGITS digits."""

    code = code_field(Purpose.CONTACT)

    def clean_code(self):
        return "".join(self.cleaned_data["code"].split())


class ReauthForm(forms.Form):
    """Asks for the account's password again: "Confirmez votre mot de passe" before a security change (DESIGN §7),
    and the proof that an account FranceConnect identified is the person's before it is linked."""

    password = SecretField(
        label=_("Mot de passe"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Saisissez votre mot de passe.")},
    )

    def __init__(self, *args, account, **kwargs):
        self.account = account
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.account.check_password(password):
            raise ValidationError(gettext("Mot de passe incorrect."), code="wrong_password")
        return password
