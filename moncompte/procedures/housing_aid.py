"""« Demande d'aide au logement »: the household, the home, the rent, the resources (the reference tax income the
DGFiP sends, which the person may correct), the bank account, then the summary."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moncompte.households.models import Role
from moncompte.partners import connectors
from moncompte.partners.connectors import PartnerUnavailable
from moncompte.procedures.fields import (
    AmountField,
    HouseholdForm,
    IbanField,
    PastDateField,
    PostcodeField,
    StepForm,
    household_initial,
)
from moncompte.procedures.registry import DocumentSlot, Prefill, Prefilled, ProcedureKind, Step, StepContext, register


class HousingForm(StepForm):
    RENTED_EMPTY, RENTED_FURNISHED, SHARED, HOSTEL = "empty", "furnished", "shared", "hostel"
    address = forms.CharField(
        label=_("Adresse du logement"),
        help_text=_("Numéro et voie, par exemple 12 rue des Lilas"),
        max_length=200,
        error_messages={"required": _("Indiquez l'adresse du logement.")},
    )
    postcode = PostcodeField(label=_("Code postal"), error_messages={"required": _("Indiquez le code postal.")})
    city = forms.CharField(label=_("Commune"), max_length=100, error_messages={"required": _("Indiquez la commune.")})
    tenure = forms.ChoiceField(
        label=_("Vous êtes"),
        choices=[
            (RENTED_EMPTY, _("locataire d'un logement vide")),
            (RENTED_FURNISHED, _("locataire d'un logement meublé")),
            (SHARED, _("en colocation")),
            (HOSTEL, _("résident d'un foyer ou d'une résidence")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Indiquez votre situation dans le logement.")},
    )
    moved_in = PastDateField(
        label=_("Date d'entrée dans le logement"),
        error_messages={"required": _("Indiquez la date d'entrée dans le logement.")},
    )
    landlord = forms.CharField(
        label=_("Nom du propriétaire ou du gestionnaire"),
        max_length=200,
        error_messages={"required": _("Indiquez le nom du propriétaire ou du gestionnaire.")},
    )
    surface = forms.IntegerField(
        label=_("Surface habitable (m²)"),
        min_value=1,
        max_value=1000,
        error_messages={
            "required": _("Indiquez la surface habitable en m²."),
            "invalid": _("Indiquez la surface en m², en chiffres."),
            "min_value": _("La surface doit être d'au moins 1 m²."),
            "max_value": _("Cette surface paraît trop grande : vérifiez-la."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["address"].widget.attrs["autocomplete"] = "street-address"
        self.fields["city"].widget.attrs["autocomplete"] = "address-level2"
        self.fields["surface"].widget.attrs["inputmode"] = "numeric"


class RentForm(StepForm):
    rent = AmountField(
        label=_("Loyer mensuel, sans les charges (€)"),
        max_amount=20_000,
        error_messages={"required": _("Indiquez le montant du loyer mensuel.")},
    )
    charges = AmountField(
        label=_("Charges mensuelles"), help_text=_("En euros, 0 si aucune"), max_amount=5_000, required=False
    )

    def clean_rent(self):
        rent = self.cleaned_data["rent"]
        if rent is not None and rent <= 0:
            raise forms.ValidationError(_("Le loyer doit être supérieur à 0 €."))
        return rent


def income_year() -> int:
    """The aid is computed on the income of two years before (« revenus N-2 »)."""
    return timezone.localdate().year - 2


class ResourcesForm(StepForm):
    income = AmountField(
        label="",
        max_amount=10_000_000,
        error_messages={"required": _("Indiquez votre revenu fiscal de référence.")},
    )
    partner_income = AmountField(label="", max_amount=10_000_000, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        year = income_year()
        if self.ctx.for_someone_else:  # the holder sends what the partner prepared: name the author
            self.fields["income"].label = _("Revenu fiscal de référence %(year)s de %(name)s (€)") % {
                "year": year,
                "name": self.ctx.person.full_name,
            }
            self.fields["income"].help_text = _("Il figure sur son avis d'impôt %(next)s.") % {"next": year + 1}
            self.fields["partner_income"].label = _("Votre revenu fiscal de référence %(year)s (€)") % {"year": year}
        else:
            self.fields["income"].label = _("Votre revenu fiscal de référence %(year)s (€)") % {"year": year}
            self.fields["income"].help_text = _("Il figure sur votre avis d'impôt %(next)s.") % {"next": year + 1}
            self.fields["partner_income"].label = _("Revenu fiscal de référence %(year)s de votre conjoint (€)") % {
                "year": year
            }
        if not self.in_couple:
            del self.fields["partner_income"]

    @property
    def in_couple(self) -> bool:
        return (self.ctx.data.get("foyer") or {}).get("situation") == HouseholdForm.COUPLE

    def clean(self):
        data = super().clean()
        if self.in_couple and data.get("partner_income") is None and "partner_income" not in self.errors:
            self.add_error("partner_income", _("Indiquez le revenu fiscal de référence de votre conjoint."))
        return data


def _other_adult(ctx: StepContext):
    """The person's partner in the case (the holder for a partner), if the person may see them."""
    if ctx.case is None or not ctx.sees_household:
        return None
    roles = (Role.HOLDER, Role.PARTNER)
    other = ctx.case.memberships.filter(role__in=roles).exclude(person=ctx.person).select_related("person").first()
    return other.person if other else None


def resources_prefill(ctx: StepContext) -> Prefill:
    prefill = Prefill()
    year = income_year()
    for field, person in (("income", ctx.person), ("partner_income", _other_adult(ctx))):
        if person is None or not person.nir:
            continue
        try:
            answer = connectors.tax_income(person.nir, year)
        except PartnerUnavailable as unavailable:
            if unavailable.partner.label not in prefill.unavailable:
                prefill.unavailable.append(unavailable.partner.label)
            continue
        if answer.data is not None:
            income = Decimal(answer.data.reference_income)
            prefill.values[field] = Prefilled(income, answer.source, answer.fetched_at)
    return prefill


class BankForm(StepForm):
    account_holder = forms.CharField(
        label=_("Titulaire du compte"),
        max_length=140,
        error_messages={"required": _("Indiquez le nom du titulaire du compte.")},
    )
    iban = IbanField(
        label=_("IBAN"),
        help_text=_(
            "Il figure sur votre relevé d'identité bancaire (RIB), par exemple FR76 3000 6000 0112 3456 7890 189"
        ),
        error_messages={"required": _("Indiquez l'IBAN du compte sur lequel l'aide sera versée.")},
    )

    def display_iban(self, value: str) -> str:
        """Shown masked on the summary and the receipt: the country, the key and the last 4 characters."""
        return f"{value[:4]} •••• •••• {value[-4:]}" if value else "—"


def _bank_initial(ctx: StepContext) -> dict:
    return {"account_holder": ctx.person.full_name}


HOUSING_AID = register(
    ProcedureKind(
        slug="aide-au-logement",
        code="AL",
        title=_("Demande d'aide au logement"),
        summary=_("Pour les locataires et les résidents de foyer : une aide pour payer le loyer."),
        steps=(
            Step("foyer", _("Votre foyer"), form=HouseholdForm, initial=household_initial),
            Step("logement", _("Votre logement"), form=HousingForm),
            Step(
                "loyer",
                _("Votre loyer"),
                form=RentForm,
                documents=(
                    DocumentSlot(
                        "bail",
                        _("Bail ou dernière quittance de loyer"),
                        _("Un PDF, ou une photo JPEG ou PNG lisible."),
                    ),
                ),
            ),
            Step("ressources", _("Vos ressources"), form=ResourcesForm, prefill=resources_prefill),
            Step(
                "banque",
                _("Vos coordonnées bancaires"),
                form=BankForm,
                initial=_bank_initial,
                documents=(DocumentSlot("rib", _("Relevé d'identité bancaire (RIB)"), required=False),),
            ),
            Step("recapitulatif", _("Récapitulatif et envoi")),
        ),
    )
)
