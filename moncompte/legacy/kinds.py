"""The journal kinds the legacy import records (see journal/kinds.py)."""

from django.utils.translation import gettext_lazy

from moncompte.journal.kinds import declare

declare("case.imported", gettext_lazy("Reprise du dossier depuis l'ancien système"))
