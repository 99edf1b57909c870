from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _create_cache_table(sender, using: str = "default", **kwargs) -> None:
    """The embedded mode keeps the login counters in Django's database cache: `migrate` alone creates its table, on a
    fresh machine and on an upgrade alike (nothing happens when the cache is Redis)."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class AccountsConfig(AppConfig):
    name = "moncompte.accounts"
    verbose_name = "Comptes personnels"

    def ready(self) -> None:
        from moncompte.accounts.agents import roles_sync

        post_migrate.connect(_create_cache_table, sender=self)
        # After every app's migrate: the role groups get the permissions that exist by then (the last run, all).
        post_migrate.connect(roles_sync, dispatch_uid="accounts.roles_sync")
