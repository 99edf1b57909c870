from django.db import migrations
from django.db.models import F, Q


def login_id_follows_the_nir(apps, schema_editor):
    """Accounts opened with a provisional identifier whose NIR the import linked later: their login id becomes the NIR
    (identity.linking does it for every link from now on)."""
    Account = apps.get_model("accounts", "Account")
    behind = Account.objects.filter(is_staff=False, person__nir__isnull=False, login_id=F("person__retired_provisional_id"))
    for account in behind.exclude(Q(login_id=F("person__nir"))).select_related("person").iterator():
        account.login_id = account.person.nir
        account.save(update_fields=["login_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_trusted_devices"),
        ("identity", "0004_person_retired_provisional_id"),
    ]

    operations = [
        migrations.RunPython(login_id_follows_the_nir, migrations.RunPython.noop, elidable=True),
    ]
