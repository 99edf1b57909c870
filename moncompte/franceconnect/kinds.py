"""The journal kinds FranceConnect records (see journal/kinds.py). A login through FranceConnect is
`login.succeeded` with `via: franceconnect`, an account it opens `account.created` with the same `via`."""

from django.utils.translation import gettext_lazy

from moncompte.journal.kinds import declare

declare("franceconnect.linked", gettext_lazy("Compte relié à FranceConnect"), security=True, reversible=True)
declare("franceconnect.unlinked", gettext_lazy("Compte détaché de FranceConnect"), security=True, reversible=True)
declare(
    "franceconnect.link_failed",
    gettext_lazy("Mot de passe incorrect en reliant le compte à FranceConnect"),
    security=True,
    event=True,
)
# A callback that failed a check (signature, issuer, audience, nonce, state…): for the security team.
declare(
    "franceconnect.refused", gettext_lazy("Connexion FranceConnect refusée (contrôle échoué)"), alert=True, event=True
)
