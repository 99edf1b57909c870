"""The journal kinds of the phone channel (see journal/kinds.py). Each entry carries the `phone` channel and the
calling number (journal.context); a PIN renewal is the household's (`case.pin_renewed`)."""

from django.utils.translation import gettext_lazy

from moncompte.journal.kinds import declare

declare("phone.identified", gettext_lazy("Identification au serveur vocal"), security=True, event=True)
declare("phone.pin_refused", gettext_lazy("Serveur vocal : mot de passe du dossier incorrect"), event=True)
declare(
    "phone.pin_ceiling",
    gettext_lazy("Serveur vocal : trop de mots de passe incorrects, identification suspendue un moment"),
    alert=True,
    event=True,
)
declare(
    "phone.pin_renewal_impossible",
    gettext_lazy("Serveur vocal : nouveau mot de passe demandé, sans téléphone mobile validé pour le recevoir"),
    event=True,
)
declare("phone.transferred", gettext_lazy("Serveur vocal : appel transmis à un conseiller"), event=True)
declare("phone.calls_forgotten", gettext_lazy("Serveur vocal : traces d'appels anciens supprimées"), event=True)
