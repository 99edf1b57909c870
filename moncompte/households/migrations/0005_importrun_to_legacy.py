"""ImportRun moved to the legacy app (issue 9): the model leaves this app's state, its table stays where it is and
is taken over by legacy 0001."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("households", "0004_invitation_destination_source"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="ImportRun")]),
    ]
