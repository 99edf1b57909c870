"""Forms of the account pages: login, login code, forgotten password, password change, re-authentication."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from moncompte.messaging.models import Medium
from moncompte.verification.models import Purpose
from moncompte.web.forms import NewPasswordForm, NirField, SecretField, code_field


class LoginForm(forms.Form):
    identifier = NirField()
    password = SecretField(
        label=_("Mot de passe"),
        help_text=_("8 à 24 caractères"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Saisissez votre mot de passe.")},
    )
    remember = forms.BooleanField(label=_("Se souvenir de moi"), required=False)


class ResetRequestForm(forms.Form):
    identifier = NirField()
    medium = forms.ChoiceField(
        label=_("Où souhaitez-vous recevoir votre code ?"),
        choices=[
            (Medium.SMS, _("Par SMS, sur mon mobile connu de la Caf")),
            (Medium.EMAIL, _("Par e-mail, à mon adresse connue de la Caf")),
        ],
        widget=forms.RadioSelect,
        initial=Medium.SMS,
        error_messages={
            "required": _("Choisissez le SMS ou l'e-mail."),
            "invalid_choice": _("Choisissez le SMS ou l'e-mail."),
        },
    )


class ResetCompleteForm(NewPasswordForm):
    code = code_field(Purpose.PASSWORD_RESET)
    field_order = ["code", "password1", "password2"]

    def clean_code(self):
        return "".join(self.cleaned_data["code"].split())


class PasswordChangeForm(NewPasswordForm):
    """Re-authentication first: the current password, then the new one."""

    current_password = SecretField(
        label=_("Mot de passe actuel"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Saisissez votre mot de passe actuel.")},
    )
    field_order = ["current_password", "password1", "password2"]

    def clean_current_password(self):
        current = self.cleaned_data["current_password"]
        if not self.account.check_password(current):
            raise ValidationError(gettext("Votre mot de passe actuel est incorrect."), code="wrong_password")
        return current
