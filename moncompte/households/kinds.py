"""The journal kinds households record (see journal/kinds.py). Asking to open an account and its answer are the
household's (invitations.py): the holder approves or refuses; `signup.code_sent` is the signup app's."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from moncompte.journal.kinds import declare
from moncompte.journal.models import Entry

#: Delegation granted at the partner's first login with the shared case PIN (origin "case_pin").
_DELEGATION_FROM_PIN = gettext_lazy("Délégation reprise du mot de passe du dossier, à la première connexion")


def _delegation_granted(entry: Entry) -> str | None:
    return str(_DELEGATION_FROM_PIN) if (entry.after or {}).get("origin") == "case_pin" else None


declare(
    "delegation.granted",
    gettext_lazy("Délégation accordée au conjoint"),
    security=True,
    reversible=True,
    describe=_delegation_granted,
)
declare("delegation.revoked", gettext_lazy("Délégation retirée au conjoint"), security=True, reversible=True)
declare("invitation.sent", gettext_lazy("Invitation à créer votre compte envoyée"), reversible=True)
declare("invitation.revoked", gettext_lazy("Invitation à créer votre compte annulée"))
declare("invitation.accepted", gettext_lazy("Invitation utilisée pour créer votre compte"))
declare(
    "invitation.on_file_told",
    gettext_lazy("Avertissement à vos coordonnées connues de la Caf : invitation envoyée à une autre coordonnée"),
    event=True,
)
declare(
    "signup.requested",
    gettext_lazy("Demande de création de compte, à approuver par l'allocataire"),
    reversible=True,
)
declare("signup.approved", gettext_lazy("Demande de création de compte approuvée par l'allocataire"), reversible=True)
declare("signup.refused", gettext_lazy("Demande de création de compte refusée par l'allocataire"), reversible=True)
declare("separation.declared", gettext_lazy("Déclaration de séparation"), reversible=True)
declare("separation.processed", gettext_lazy("Séparation traitée par la Caf"), reversible=True)
declare("case.pin_changed", gettext_lazy("Changement du mot de passe à 8 chiffres du dossier"))
declare(
    "case.pin_renewed",
    gettext_lazy("Nouveau mot de passe du serveur vocal envoyé par SMS (mot de passe oublié)"),
    security=True,
)
declare("case.pin_rehashed", gettext_lazy("Mise à jour de la protection du mot de passe du dossier"))
