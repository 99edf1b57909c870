"""The journal's order as one index (created_at, id), which keyset walks of a time window follow without sorting,
and a partial index of the password entries (incidents.affected). The composite index is built before the
created_at index it replaces is dropped, so the journal is never without one."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("journal", "0003_read"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(fields=["created_at", "id"], name="journal_entry_created_id"),
        ),
        migrations.AlterField(
            model_name="entry",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, verbose_name="date"),
        ),
        migrations.AddIndex(
            model_name="entry",
            index=models.Index(
                condition=models.Q(("kind__in", ("password.created", "password.changed", "password.reset"))),
                fields=["person_id", "created_at"],
                name="journal_entry_password_set",
            ),
        ),
    ]
