"""`manage.py agent_create <login id> --role desk|supervisor|security ... --reason TEXT`: open an agent's account.

The password is asked twice at the terminal (or read from standard input when it is not one); it follows the
citizens' password rules. The agent enrols their second factor at their first sign-in, at /guichet/connexion/.
Journaled (`agent.created`). Roles are changed later with `agent_roles`.
"""

import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from moncompte.accounts import agents
from moncompte.journal.context import acting
from moncompte.journal.models import Channel


class Command(BaseCommand):
    help = "Ouvre le compte d'un agent (mot de passe demandé, double authentification à la première connexion)."

    def add_arguments(self, parser):
        parser.add_argument("login_id", help="identifiant de connexion de l'agent (pas un numéro de Sécurité sociale)")
        parser.add_argument(
            "--role", action="append", default=[], choices=sorted(agents.ROLES), help="rôle (répétable)"
        )
        parser.add_argument("--reason", required=True, help="motif, inscrit au journal")

    def handle(self, *args, login_id, role, reason, **options):
        password = self._password()
        try:
            with acting(channel=Channel.COMMAND):
                account = agents.agent_create(login_id=login_id, password=password, roles=role, reason=reason)
        except agents.AgentError as error:
            raise CommandError(str(error)) from None
        except ValidationError as error:
            raise CommandError("Mot de passe refusé : " + " ".join(error.messages)) from None
        groups = ", ".join(agents.ROLES[key].group for key in role) or "aucun"
        self.stdout.write(
            f"Compte d'agent « {account.login_id} » ouvert (rôles : {groups}). À sa première connexion sur "
            "/guichet/connexion/, l'agent active sa double authentification."
        )

    def _password(self) -> str:
        if not sys.stdin.isatty():
            return sys.stdin.readline().rstrip("\n")
        first = getpass.getpass("Mot de passe de l'agent : ")
        if getpass.getpass("Encore une fois : ") != first:
            raise CommandError("Les deux mots de passe ne sont pas identiques.")
        return first
