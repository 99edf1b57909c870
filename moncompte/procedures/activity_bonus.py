"""« Demande de prime d'activité »: the household, the activity, the resources of the last three months (the
allowances France Travail paid are pre-filled, the person may correct them), then the summary."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from moncompte.partners import connectors
from moncompte.partners.connectors import Answer, PartnerUnavailable
from moncompte.procedures.fields import AmountField, HouseholdForm, PastDateField, StepForm, household_initial
from moncompte.procedures.registry import Prefill, Prefilled, ProcedureKind, Step, StepContext, register


class ActivityForm(StepForm):
    EMPLOYEE, SELF_EMPLOYED, APPRENTICE, JOBSEEKER = "employee", "self_employed", "apprentice", "jobseeker"
    activity = forms.ChoiceField(
        label=_("Votre activité"),
        choices=[
            (EMPLOYEE, _("salarié ou salariée")),
            (SELF_EMPLOYED, _("travailleur ou travailleuse indépendant")),
            (APPRENTICE, _("apprenti, apprentie ou stagiaire rémunéré")),
            (JOBSEEKER, _("en recherche d'emploi, avec une activité réduite")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Indiquez votre activité.")},
    )
    employer = forms.CharField(label=_("Employeur ou nom de votre activité"), max_length=200, required=False)
    since = PastDateField(
        label=_("Depuis le"), error_messages={"required": _("Indiquez depuis quand vous exercez cette activité.")}
    )
    registered = forms.ChoiceField(
        label=_("Êtes-vous inscrit ou inscrite à France Travail ?"),
        choices=[("yes", _("Oui")), ("no", _("Non"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Indiquez si vous êtes inscrit à France Travail.")},
    )


def last_quarter(today: datetime.date | None = None) -> list[datetime.date]:
    """The first days of the three full months before this one, oldest first."""
    today = today or timezone.localdate()
    months, day = [], today.replace(day=1)
    for _i in range(3):
        day = (day - datetime.timedelta(days=1)).replace(day=1)
        months.insert(0, day)
    return months


def _month_key(month: datetime.date) -> str:
    return f"{month:%Y_%m}"


class QuarterlyResourcesForm(StepForm):
    """For each of the last three months: salaries, France Travail allowances, other income. The fields are named
    after their month, so a draft resumed in a later month asks again for the months that now count."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.months = last_quarter()
        for month in self.months:
            name = formats.date_format(month, "F Y")  # « en octobre 2026 »: « de » would need « d'octobre »
            key = _month_key(month)
            self.fields[f"salary_{key}"] = AmountField(
                label=_("Salaires ou revenus d'activité en %(month)s (€)") % {"month": name},
                help_text=_("Le montant net, avant le prélèvement à la source."),
                max_amount=100_000,
                error_messages={
                    "required": _("Indiquez vos revenus d'activité en %(month)s (0 si aucun).") % {"month": name}
                },
            )
            self.fields[f"allowance_{key}"] = AmountField(
                label=_("Allocations de France Travail en %(month)s (€)") % {"month": name},
                max_amount=100_000,
                required=False,
            )
            self.fields[f"other_{key}"] = AmountField(
                label=_("Autres ressources en %(month)s (€)") % {"month": name},
                help_text=_("Pensions, rentes, revenus de capitaux…"),
                max_amount=100_000,
                required=False,
            )


def _days_in(month: datetime.date, start: datetime.date, end: datetime.date | None) -> int:
    next_month = (month + datetime.timedelta(days=32)).replace(day=1)
    last = min(next_month - datetime.timedelta(days=1), end or next_month)
    first = max(month, start)
    return max(0, (last - first).days + 1)


def _from_employment(ctx: StepContext, values: Callable[[Answer], dict[str, Any]]) -> Prefill:
    """What France Travail says of the author, turned into field values; its label among the unavailable if down."""
    prefill = Prefill()
    if not ctx.person.nir:
        return prefill
    try:
        answer = connectors.employment(ctx.person.nir)
    except PartnerUnavailable as unavailable:
        prefill.unavailable.append(unavailable.partner.label)
        return prefill
    prefill.values = {
        name: Prefilled(value, answer.source, answer.fetched_at) for name, value in values(answer).items()
    }
    return prefill


def _allowances(answer: Answer) -> dict[str, Decimal]:
    """The allowances paid in each month of the quarter: the daily amount times the days paid in the month."""
    return {
        f"allowance_{_month_key(month)}": sum(
            (a.daily_amount * _days_in(month, a.start, a.end) for a in answer.data.allowances), Decimal("0")
        ).quantize(Decimal("0.01"))
        for month in last_quarter()
    }


def allowances_prefill(ctx: StepContext) -> Prefill:
    return _from_employment(ctx, _allowances)


def activity_prefill(ctx: StepContext) -> Prefill:
    return _from_employment(ctx, lambda answer: {"registered": "yes" if answer.data.registered else "no"})


ACTIVITY_BONUS = register(
    ProcedureKind(
        slug="prime-d-activite",
        code="PA",
        title=_("Demande de prime d'activité"),
        summary=_("Pour les personnes qui travaillent et dont les revenus sont modestes : un complément chaque mois."),
        steps=(
            Step("foyer", _("Votre foyer"), form=HouseholdForm, initial=household_initial),
            Step("activite", _("Votre activité"), form=ActivityForm, prefill=activity_prefill),
            Step(
                "ressources",
                _("Vos ressources des trois derniers mois"),
                form=QuarterlyResourcesForm,
                prefill=allowances_prefill,
            ),
            Step("recapitulatif", _("Récapitulatif et envoi")),
        ),
    )
)
