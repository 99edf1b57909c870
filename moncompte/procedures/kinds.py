"""The journal kinds the procedures record (see journal/kinds.py)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from moncompte.journal.kinds import declare

declare("procedure.started", gettext_lazy("Démarche commencée"), reversible=True)
declare("procedure.saved", gettext_lazy("Démarche enregistrée"), reversible=True)
declare("procedure.document_added", gettext_lazy("Pièce justificative déposée"), reversible=True)
declare("procedure.document_removed", gettext_lazy("Pièce justificative retirée"))
declare("procedure.handed_over", gettext_lazy("Démarche préparée, transmise à l'allocataire pour envoi"))
declare("procedure.deleted", gettext_lazy("Démarche en cours supprimée"))
declare("procedure.reminded", gettext_lazy("Rappel : démarche en cours bientôt supprimée"), event=True)
declare("procedure.expired", gettext_lazy("Démarche en cours supprimée après son délai"))
declare("procedure.submitted", gettext_lazy("Demande envoyée à la Caf"), reversible=True)
