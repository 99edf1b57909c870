"""The journal kinds accounts record (see journal/kinds.py)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from moncompte.journal.kinds import declare
from moncompte.journal.models import Entry
from moncompte.messaging.models import Medium


def _contact_validated(entry: Entry) -> str | None:
    medium = (entry.after or {}).get("medium")
    had_before = any((entry.before or {}).get(field) for field in ("email", "mobile"))
    if medium == Medium.SMS:
        return _("Changement du numéro de mobile") if had_before else _("Validation du numéro de mobile")
    if medium == Medium.EMAIL:
        return _("Changement de l'adresse e-mail") if had_before else _("Validation de l'adresse e-mail")
    return None


declare("login.succeeded", gettext_lazy("Connexion réussie"), security=True, event=True)
declare("login.failed", gettext_lazy("Échec de connexion (mot de passe incorrect)"), security=True, event=True)
declare("reauth.failed", gettext_lazy("Mot de passe incorrect lors d'une confirmation"), security=True, event=True)
declare("account.created", gettext_lazy("Création du compte"), security=True, reversible=True)
declare("account.onboarded", gettext_lazy("Présentation du nouvel espace vue"), event=True)
declare("account.roles_changed", gettext_lazy("Changement des droits d'agent du compte"), reversible=True)
declare("account.deactivated_by_agent", gettext_lazy("Fermeture de votre compte par la Caf"))
declare("account.reactivated_by_agent", gettext_lazy("Réouverture de votre compte par la Caf"))
declare("password.created", gettext_lazy("Création du mot de passe"), security=True)
declare("password.changed", gettext_lazy("Changement du mot de passe"), security=True, reversible=True)
declare("password.reset", gettext_lazy("Nouveau mot de passe (mot de passe oublié)"), security=True)
declare(
    "contact.validated",
    gettext_lazy("Validation d'une coordonnée"),
    security=True,
    reversible=True,
    describe=_contact_validated,
)
declare(
    "contact.corrected_by_agent",
    gettext_lazy("Correction d'une coordonnée par la Caf"),
    security=True,
    reversible=True,
)
# What "Ce n'était pas moi" and the agents did about a session or a report cannot be disowned in turn.
for name, label in (
    ("security.reported", gettext_lazy("Signalement « Ce n'était pas moi »")),
    ("security.report_handled", gettext_lazy("Signalement « Ce n'était pas moi » examiné par l'équipe sécurité")),
    ("security.sessions_ended", gettext_lazy("Fermeture de sessions")),
    ("security.sessions_ended_by_agent", gettext_lazy("Fermeture de vos sessions par la Caf")),
    ("security.all_sessions_ended_by_agent", gettext_lazy("Fermeture de toutes les sessions par la Caf")),
):
    declare(name, label, security=True, disownable=False)

# Agents (issue 13, item 2): their accounts and second factor. Nothing here is about a citizen.
declare("agent.created", gettext_lazy("Création d'un compte d'agent"))
declare("agent.second_factor_enrolled", gettext_lazy("Agent : double authentification activée"), event=True)
declare("agent.second_factor_failed", gettext_lazy("Agent : code de double authentification incorrect"), event=True)
declare("agent.second_factor_verified", gettext_lazy("Agent : code de l'application vérifié"), event=True)
declare("agent.backup_code_used", gettext_lazy("Agent : connexion avec un code de secours"), event=True)
declare("agent.backup_codes_renewed", gettext_lazy("Agent : nouveaux codes de secours"), event=True)
declare(
    "agent.second_factor_reset",
    gettext_lazy("Agent : double authentification réinitialisée par un superviseur"),
    alert=True,
)

# The desk (issue 13, item 3): what an agent did for a person, in that person's security history.
declare("desk.consulted", gettext_lazy("Un agent de la Caf a consulté votre dossier"), security=True, event=True)
declare(
    "desk.reset_code_sent",
    gettext_lazy("Un agent de la Caf vous a envoyé un code pour créer un nouveau mot de passe"),
    security=True,
    event=True,
)
declare("desk.reset_code_refused", gettext_lazy("Accueil : code non envoyé (quota atteint)"), event=True)
declare(
    "desk.search_ceiling",
    gettext_lazy("Accueil : trop de recherches de dossiers en une heure par un même agent"),
    alert=True,
    event=True,
)
declare(
    "desk.invitation_resent", gettext_lazy("Un agent de la Caf a renvoyé votre invitation"), security=True, event=True
)
