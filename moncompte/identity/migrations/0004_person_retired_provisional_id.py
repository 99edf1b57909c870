from django.db import migrations, models
from django.db.models import F


def retire_provisional_ids_of_people_with_a_nir(apps, schema_editor):
    """The import used to link a NIR and keep the provisional identifier beside it: retire it now."""
    Person = apps.get_model("identity", "Person")
    Person.objects.filter(nir__isnull=False, provisional_id__isnull=False).update(
        retired_provisional_id=F("provisional_id"), provisional_id=None
    )


def restore_provisional_ids(apps, schema_editor):
    Person = apps.get_model("identity", "Person")
    Person.objects.filter(retired_provisional_id__isnull=False).update(
        provisional_id=F("retired_provisional_id"), retired_provisional_id=None
    )


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0003_person_birth_date_sex"),
    ]

    operations = [
        migrations.AddField(
            model_name="person",
            name="retired_provisional_id",
            field=models.CharField(
                blank=True, max_length=13, null=True, unique=True, verbose_name="identifiant provisoire retiré"
            ),
        ),
        migrations.RunPython(retire_provisional_ids_of_people_with_a_nir, restore_provisional_ids, elidable=True),
        migrations.AddConstraint(
            model_name="person",
            constraint=models.CheckConstraint(
                condition=models.Q(("nir__isnull", True), ("provisional_id__isnull", True), _connector="OR"),
                name="person_nir_retires_the_provisional_id",
            ),
        ),
    ]
