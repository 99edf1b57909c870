"""Issue 8, item 2: who vouches for an invitation's destination. Invitations already sent keep working; those of an
approved request went to a contact the member proved with a code, every other one to a contact the holder typed."""

from django.db import migrations, models


def approvals_were_proven(apps, schema_editor):
    Invitation = apps.get_model("households", "Invitation")
    Invitation.objects.filter(origin="approval").update(destination_source="proven")


class Migration(migrations.Migration):
    dependencies = [
        ("households", "0003_delegation_invitation_signup_separation"),
    ]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="destination_source",
            field=models.CharField(
                choices=[
                    ("on_file", "Coordonnée connue de la Caf pour la personne invitée"),
                    ("typed", "Coordonnée indiquée par l'allocataire"),
                    ("proven", "Coordonnée prouvée par la personne invitée avec un code"),
                ],
                default="typed",
                max_length=8,
                verbose_name="origine du destinataire",
            ),
        ),
        migrations.RunPython(approvals_were_proven, migrations.RunPython.noop),
    ]
