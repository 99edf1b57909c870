"""The journal kinds identity records (see journal/kinds.py)."""

from django.utils.translation import gettext_lazy

from moncompte.journal.kinds import declare

declare("correction.requested", gettext_lazy("Signalement d'une erreur dans vos informations"), reversible=True)
declare("correction.handled", gettext_lazy("Signalement d'erreur traité par la Caf"), reversible=True)
declare("person.corrected", gettext_lazy("Correction de vos informations par la Caf"), reversible=True)
# Made by the Caf (an agent, or the import from the old system), not by the person: "Ce n'était pas moi" does not fit.
declare(
    "person.nir_linked",
    gettext_lazy("Votre numéro de Sécurité sociale a été rattaché à votre compte"),
    security=True,
    disownable=False,
    reversible=True,
)
