"""Form fields the procedures share: amounts typed the French way, an IBAN checked by its key, a French postcode,
and the household step both kinds begin with."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from schwifty import IBAN
from schwifty.exceptions import InvalidChecksumDigits, SchwiftyException

from moncompte.households.models import Role


class AmountField(forms.Field):
    """Euros, typed « 1 234,56 », « 1234.56 » or « 1 234 € »; a Decimal with 2 places, from 0 to `max_amount`."""

    widget = forms.TextInput

    def __init__(self, *, max_amount: int = 999_999, **kwargs):
        self.max_amount = Decimal(max_amount)
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {"inputmode": "decimal", "autocomplete": "off", "spellcheck": "false", "maxlength": "20"}
        )

    def to_python(self, value):
        value = str(value).strip() if value is not None else ""
        if value in self.empty_values:
            return None
        # Longer than any amount: refused whole (cut at 40 characters, « 12 » then spaces then anything would pass).
        text = re.sub(r"[\s\u00a0\u202f€]", "", value).replace(",", ".") if len(value) <= 40 else "-"
        if not re.fullmatch(r"[0-9]{1,9}(\.[0-9]{1,2})?", text):  # ASCII digits: \d would read « ٣ » as 3
            raise ValidationError(
                _("Indiquez un montant en euros, en chiffres, par exemple 1 234,56."), code="invalid"
            )
        try:
            amount = Decimal(text).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise ValidationError(_("Indiquez un montant en euros, en chiffres."), code="invalid") from None
        if amount > self.max_amount:
            raise ValidationError(
                _("Ce montant paraît trop élevé (%(max)s € au plus) : vérifiez-le.")
                % {"max": f"{self.max_amount:,.0f}".replace(",", " ")},
                code="max_value",
            )
        return amount

    def prepare_value(self, value):
        """« 18 500,00 »: grouped by thousands (a space), a decimal comma, as people write amounts."""
        if isinstance(value, Decimal):
            return f"{value:,.2f}".replace(",", " ").replace(".", ",")
        return value


class IbanField(forms.CharField):
    """An IBAN of the SEPA zone, its key checked (schwifty); stored compact (« FR7630006000011234567890189 »)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 50)
        super().__init__(**kwargs)
        self.widget.attrs.update({"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"})

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return ""
        compact = re.sub(r"[\s\u00a0-]", "", value).upper()
        try:
            iban = IBAN(compact)
        except InvalidChecksumDigits:
            raise ValidationError(
                _(
                    "La clé de cet IBAN ne correspond pas : une erreur de frappe s'est sans doute glissée. "
                    "Recopiez-le depuis votre RIB."
                ),
                code="checksum",
            ) from None
        except SchwiftyException:
            raise ValidationError(
                _(
                    "Ce n'est pas un IBAN valide : il commence par deux lettres (FR pour la France) et compte "
                    "27 caractères en France."
                ),
                code="invalid",
            ) from None
        if not iban.in_sepa_zone:
            raise ValidationError(
                _("Le compte doit être tenu dans un pays de la zone SEPA (France et Europe)."), code="sepa"
            )
        return str(iban.compact)


class PostcodeField(forms.RegexField):
    def __init__(self, **kwargs):
        kwargs["error_messages"] = {
            "invalid": _("Le code postal compte 5 chiffres, par exemple 75012 ou 97400."),
            **kwargs.get("error_messages", {}),
        }
        super().__init__(regex=r"^\d{5}$", max_length=5, **kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "postal-code"})


class PastDateField(forms.DateField):
    """A date typed « 15/09/2024 » or picked (ISO), not in the future and not before 1900."""

    def __init__(self, **kwargs):
        kwargs.setdefault("input_formats", ["%d/%m/%Y", "%Y-%m-%d"])
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
        kwargs.setdefault("error_messages", {"invalid": _("Indiquez une date valide, par exemple 15/09/2024.")})
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if value and value > timezone.localdate():
            raise ValidationError(_("Cette date ne peut pas être dans le futur."), code="future")
        if value and value < datetime.date(1900, 1, 1):
            raise ValidationError(_("Cette date paraît trop ancienne : vérifiez-la."), code="too_old")


class StepForm(forms.Form):
    """A step's form knows who fills it in (`ctx`, a registry.StepContext)."""

    def __init__(self, *args, ctx, **kwargs):
        self.ctx = ctx
        super().__init__(*args, **kwargs)


class HouseholdForm(StepForm):
    """Who lives in the home: alone or as a couple, and how many children in the person's care."""

    ALONE, COUPLE = "alone", "couple"
    situation = forms.ChoiceField(
        label=_("Vous vivez"),
        choices=[(ALONE, _("seul ou seule")), (COUPLE, _("en couple (mariage, Pacs ou union libre)"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Indiquez si vous vivez seul ou en couple.")},
    )
    children = forms.IntegerField(
        label=_("Nombre d'enfants à votre charge"),
        min_value=0,
        max_value=20,
        error_messages={
            "required": _("Indiquez le nombre d'enfants à votre charge (0 si aucun)."),
            "invalid": _("Indiquez un nombre, par exemple 0, 1 ou 2."),
            "min_value": _("Le nombre d'enfants ne peut pas être négatif."),
            "max_value": _("Indiquez au plus 20 enfants ; au-delà, contactez votre Caf."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["children"].widget.attrs.update({"inputmode": "numeric"})


def household_initial(ctx) -> dict:
    """What the case already says, for a person who may see the household: couple or not, and the children."""
    if ctx.case is None or not ctx.sees_household:
        return {}
    roles = list(ctx.case.memberships.values_list("role", flat=True))
    return {
        "situation": HouseholdForm.COUPLE if Role.PARTNER in roles else HouseholdForm.ALONE,
        "children": roles.count(Role.CHILD),
    }
