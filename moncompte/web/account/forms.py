"""Forms of the account pages: login, login code, forgotten password, password change, re-authentication."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from moncompte.identity.provisional import ProvisionalIdError, parse_provisional_id
from moncompte.messaging.models import Medium
from moncompte.verification.models import Purpose
from moncompte.web.forms import IdentifierField, NewPasswordForm, NirField, SecretField, code_field

_IS_PROVISIONAL_ID = _(
    "Ceci est un identifiant provisoire, pas un numéro de Sécurité sociale : connectez-vous avec lui depuis "
    "« J'ai un identifiant provisoire »."
)


def _is_a_provisional_id(value) -> bool:
    try:
        parse_provisional_id(value)
    except ProvisionalIdError:
        return False
    return True


class LoginNirField(NirField):
    """The NIR of the login page; a provisional identifier typed there is recognised and sent to its own page."""

    def clean(self, value):
        try:
            return super().clean(value)
        except ValidationError as error:
            if not _is_a_provisional_id(value):
                raise
            raise ValidationError(_IS_PROVISIONAL_ID, code="provisional_id") from error


class ProvisionalIdField(IdentifierField):
    """A provisional identifier as people type it (spaces, dots, a lower-case p); cleans to its 13 characters. A NIR
    (a NIA included) is refused, with the page it signs in on."""

    errors = (ProvisionalIdError,)

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Identifiant provisoire"))
        kwargs.setdefault("help_text", _("La lettre P suivie de 12 chiffres, par exemple P 12345 67890 12"))
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("error_messages", {"required": _("Saisissez votre identifiant provisoire.")})
        super().__init__(**kwargs)
        self.error_messages["max_length"] = _(
            "Cet identifiant est trop long : un identifiant provisoire a 13 caractères."
        )

    def parse(self, value: str) -> str:
        return parse_provisional_id(value)


class LoginForm(forms.Form):
    identifier = LoginNirField()
    password = SecretField(
        label=_("Mot de passe"),
        help_text=_("8 à 24 caractères"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Saisissez votre mot de passe.")},
    )
    remember = forms.BooleanField(label=_("Se souvenir de moi"), required=False)


class ProvisionalLoginForm(LoginForm):
    """« J'ai un identifiant provisoire »: the login form with the provisional identifier in place of the NIR."""

    identifier = ProvisionalIdField()


class ResetIdentifierField(NirField):
    """The NIR of « Mot de passe oublié ? », or the provisional identifier of someone who has no NIR yet."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text", _("13 caractères, ou votre identifiant provisoire si la Caf vous en a attribué un")
        )
        super().__init__(**kwargs)

    def clean(self, value):
        try:
            return super().clean(value)
        except ValidationError:
            if not _is_a_provisional_id(value):
                raise
        return parse_provisional_id(value)


class ResetRequestForm(forms.Form):
    identifier = ResetIdentifierField()
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


class DeskResetForm(NewPasswordForm):
    """« J'ai reçu un code d'un conseiller »: the NIR, the code an agent sent, the new password."""

    identifier = ResetIdentifierField()
    code = code_field(Purpose.DESK_RESET)
    field_order = ["identifier", "code", "password1", "password2"]

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
