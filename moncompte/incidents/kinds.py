"""The journal kinds the incidents app records (see journal/kinds.py). None is shown to a person: they are the
security team's actions, read in the incident's timeline and the journal."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from moncompte.journal.kinds import declare

declare("incident.opened", gettext_lazy("Incident de sécurité ouvert"))
declare("incident.updated", gettext_lazy("Incident de sécurité modifié"))
declare("incident.noted", gettext_lazy("Note ajoutée à un incident de sécurité"))
declare("incident.work_done", gettext_lazy("Tâches d'une annulation traitées par un agent"))
declare("site.closed", gettext_lazy("Fermeture de tous les canaux"))
declare("site.reopened", gettext_lazy("Réouverture de tous les canaux"))
declare("incident.window_cancelled", gettext_lazy("Annulation des actions de la période d'un incident"))
declare("incident.notified", gettext_lazy("Avis individuels envoyés aux personnes concernées par un incident"))
declare("incident.reported", gettext_lazy("Rapport de violation de données produit"))
