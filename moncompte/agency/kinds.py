"""The journal kinds the agency app records (see journal/kinds.py)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from moncompte.journal.kinds import declare

declare("agency.answered", gettext_lazy("Réponse envoyée à une demande de la Caf"), reversible=True)
