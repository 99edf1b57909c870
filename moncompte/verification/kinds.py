"""The journal kinds verification records (see journal/kinds.py), alerts included (ceilings.py)."""

from django.utils.translation import gettext_lazy

from moncompte.journal.kinds import declare

declare("code.sent", gettext_lazy("Envoi d'un code à usage unique"), event=True)
declare("code.verified", gettext_lazy("Code à usage unique validé"), event=True)
declare("code.failed", gettext_lazy("Code à usage unique incorrect"), event=True)
# A NIR's code budget spent is told to the person (security history) and is an alert; a ceiling is an alert only.
declare(
    "security.code_budget_spent",
    gettext_lazy(
        "Nombreux codes demandés ou essayés pour votre numéro : suspendus pour la journée, sauf sur vos appareils "
        "connus"
    ),
    security=True,
    disownable=False,
    alert=True,
    event=True,
)
declare("alert.code_ceiling", gettext_lazy("Plafond de codes à usage unique atteint"), alert=True, event=True)
