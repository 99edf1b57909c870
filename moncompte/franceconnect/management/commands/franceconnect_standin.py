"""`manage.py franceconnect_standin CONFIG.json`: the configuration of the local FranceConnect stand-in
(scripts/franceconnect/provider.mjs) for `make run`, with identities that match the demo data, and who to try.

Development only (it refuses to run without DEBUG). Its identities are three people of `generate_demo_data`:
- Isabelle Moreau, whose account already exists and is linked to FranceConnect: the button signs her in at once
  (the command opens her account with the printed password and links it, through the services, journaled);
- Léa Martin, 16, member of the Martin household without an account: the button opens hers;
- Pierre Inconnu, whom the agency does not know: the button says so and offers the other ways in.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.urls import reverse

from moncompte.accounts import services as accounts
from moncompte.accounts.models import Account
from moncompte.franceconnect import services as franceconnect
from moncompte.identity.models import Person, Sex
from moncompte.journal.context import acting
from moncompte.journal.models import Channel
from moncompte.lib.links import absolute_url
from moncompte.messaging.models import Medium

#: The demo password of the linked account (fictitious, like everything the demo prints).
LINKED_PASSWORD = "Tulipe-Bleue-Rivage-42"  # noqa: S105 (printed on purpose, like the demo PINs)
NOBODY = {
    "given_name": "Pierre Louis",
    "family_name": "INCONNU",
    "birthdate": "1970-01-01",
    "gender": "male",
    "birthplace": "75056",
    "birthcountry": "99100",
    "email": "pierre.inconnu@exemple.fr",
    "preferred_username": "",
}


def claims_of(person: Person, email: str) -> dict[str, str]:
    """The pivot identity FranceConnect would give for this person."""
    return {
        "given_name": person.given_names,
        "family_name": person.birth_name.upper(),
        "birthdate": person.birth_date.isoformat(),
        "gender": "male" if person.sex == Sex.MALE else "female",
        "birthplace": person.birthplace,
        "birthcountry": person.birth_country,
        "email": email,
        "preferred_username": person.usage_name.upper(),
    }


def sub_of(login: str) -> str:
    """The `sub` the stand-in gives (scripts/franceconnect/provider.mjs computes the same)."""
    return hashlib.sha256(f"{login}:{settings.FRANCECONNECT_CLIENT_ID}".encode()).hexdigest()


class Command(BaseCommand):
    help = "Écrit la configuration du FranceConnect local (développement) et relie le compte de démonstration."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("config", help="Fichier de configuration à écrire (JSON).")
        parser.add_argument("--port", type=int, default=9311)

    def handle(self, *args, config: str, port: int, **options):
        if not settings.DEBUG:
            raise CommandError("Le FranceConnect local ne sert qu'en développement (DEBUG=true).")
        if not (settings.FRANCECONNECT_ISSUER and settings.FRANCECONNECT_CLIENT_SECRET):
            raise CommandError("FRANCECONNECT_ISSUER et FRANCECONNECT_CLIENT_SECRET doivent être définis.")
        isabelle = Person.objects.filter(birth_name="Moreau", given_names="Isabelle").first()
        lea = Person.objects.filter(birth_name="Martin", given_names="Léa").first()
        if isabelle is None or lea is None:
            raise CommandError(
                "Données de démonstration absentes : lancez d'abord manage.py generate_demo_data --import."
            )
        self._link(isabelle)
        identities = {
            "isabelle": {
                "label": "Isabelle Moreau — compte déjà relié",
                **claims_of(isabelle, isabelle.email_on_file),
            },
            "lea": {"label": "Léa Martin, 16 ans — membre sans compte", **claims_of(lea, "lea.martin@exemple.fr")},
            "pierre": {"label": "Pierre Inconnu — inconnu de la Caf", **NOBODY},
        }
        path = Path(config)
        path.write_text(
            json.dumps(
                {
                    "port": port,
                    "issuer": settings.FRANCECONNECT_ISSUER,
                    "keys": str(path.with_name("franceconnect-standin-keys.json")),
                    "client": {
                        "client_id": settings.FRANCECONNECT_CLIENT_ID,
                        "client_secret": settings.FRANCECONNECT_CLIENT_SECRET,
                        "redirect_uris": [absolute_url(reverse("franceconnect:callback"))],
                        "post_logout_redirect_uris": [absolute_url(reverse("franceconnect:logged_out"))],
                    },
                    "identities": identities,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        path.chmod(0o600)
        self.stdout.write("")
        self.stdout.write(
            f"FranceConnect local : {settings.FRANCECONNECT_ISSUER} (bouton « S'identifier avec FranceConnect »)"
        )
        self.stdout.write(
            "  Isabelle Moreau : compte déjà relié, connexion immédiate "
            f"(son mot de passe, pour la connexion par NIR : {LINKED_PASSWORD})"
        )
        self.stdout.write("  Léa Martin, 16 ans : membre du foyer Martin sans compte, FranceConnect ouvre le sien")
        self.stdout.write("  Pierre Inconnu : inconnu de la Caf, la page le dit et propose les autres accès")

    @transaction.atomic
    def _link(self, person: Person) -> None:
        """Isabelle's account, migrated and linked, once (the command runs at every `make run`)."""
        if Account.objects.filter(person=person, franceconnect_link__isnull=False).exists():
            return
        with acting(channel=Channel.COMMAND):
            account = accounts.account_open(person=person, via="franceconnect")
            accounts.password_set(account=account, password=LINKED_PASSWORD, reason="demo")
            accounts.contact_validated(account=account, medium=Medium.EMAIL, value=person.email_on_file)
            accounts.onboarding_complete(account=account)
            franceconnect.link_create(account=account, sub=sub_of("isabelle"))
