"""The journal kinds signup records (see journal/kinds.py); it also records `password.created` (accounts') and
`invitation.on_file_told` (households')."""

from django.utils.translation import gettext_lazy

from moncompte.journal.kinds import declare

declare("signup.code_sent", gettext_lazy("Envoi d'un code pour créer votre compte"), event=True)
declare("applicant.registered", gettext_lazy("Compte ouvert pour une première demande à la Caf"))
declare(
    "applicant.known_identity",
    gettext_lazy("Tentative d'ouvrir un nouveau compte avec votre identité, refusée : vous êtes déjà connu de la Caf"),
    security=True,
)
