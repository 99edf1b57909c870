"""`manage.py demo_agents` (run by `make run`): three fictitious agents for the demo, one per role, with a printed
password. Development only (DEBUG): a known password must never open an agent's account anywhere else. Agents that
exist already are left as they are (their second factor too)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from moncompte.accounts import agents
from moncompte.accounts.models import Account
from moncompte.journal.context import acting
from moncompte.journal.models import Channel

DEMO_PASSWORD = "Guichet-Demo-Rivage-73"  # noqa: S105 (printed on purpose, like the demo PINs)
DEMO_AGENTS = (
    ("agent.accueil", agents.DESK),
    ("agent.superviseur", agents.SUPERVISOR),
    ("agent.securite", agents.SECURITY),
)


class Command(BaseCommand):
    help = "Crée les agents fictifs de la démonstration (mode développement uniquement)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Réservé au mode développement (DEBUG) : ces agents ont un mot de passe connu.")
        agents.roles_sync()
        with acting(channel=Channel.COMMAND):
            for login_id, role in DEMO_AGENTS:
                if not Account.objects.filter(login_id=login_id).exists():
                    agents.agent_create(
                        login_id=login_id, password=DEMO_PASSWORD, roles=[role], reason="démonstration"
                    )
        self.stdout.write("")
        self.stdout.write(f"Agents de démonstration (mot de passe « {DEMO_PASSWORD} ») :")
        for login_id, role in DEMO_AGENTS:
            self.stdout.write(f"  {login_id.ljust(18)} {agents.ROLES[role].group} — {agents.ROLES[role].description}")
        self.stdout.write(
            "Connexion sur /guichet/connexion/ ; à la première, activez la double authentification avec une "
            "application d'authentification (FreeOTP, Aegis…) : QR code ou clé à saisir."
        )
