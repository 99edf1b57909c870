"""`manage.py agent_roles <login id> [--staff] [--superuser] [--group NAME]... --reason TEXT`: an agent's roles.

The admin shows roles read-only (an agent must not raise their own rights, or anyone's, from a form): operators set
them here, through `services.account_roles_set`, which journals the change (`account.roles_changed`). The roles given
replace the current ones: `agent_roles dupont --reason "départ"` takes every role away.
"""

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from moncompte.accounts import services
from moncompte.accounts.models import Account


class Command(BaseCommand):
    help = "Donne ou retire les droits d'un agent (agent, superutilisateur, groupes) ; inscrit au journal."

    def add_arguments(self, parser):
        parser.add_argument("login_id", help="identifiant de connexion de l'agent")
        parser.add_argument("--staff", action="store_true", help="accès à l'administration")
        parser.add_argument("--superuser", action="store_true", help="tous les droits (implique --staff)")
        parser.add_argument("--group", action="append", default=[], help="groupe de permissions (répétable)")
        parser.add_argument("--reason", required=True, help="motif, inscrit au journal")

    def handle(self, *args, login_id, staff, superuser, group, reason, **options):
        account = Account.objects.filter(login_id=login_id).first()
        if account is None:
            raise CommandError(f"Aucun compte n'a l'identifiant « {login_id} ».")
        try:
            account = services.account_roles_set(
                account=account, is_staff=staff or superuser, is_superuser=superuser, groups=group, reason=reason
            )
        except Group.DoesNotExist:
            raise CommandError(f"Groupe inconnu parmi : {', '.join(group)}.") from None
        except ValueError:
            raise CommandError("Le compte d'un allocataire ne peut pas recevoir de droits d'agent.") from None
        groups = ", ".join(account.groups.values_list("name", flat=True)) or "aucun"
        self.stdout.write(
            f"{login_id} : agent={account.is_staff}, superutilisateur={account.is_superuser}, groupes : {groups}."
        )
