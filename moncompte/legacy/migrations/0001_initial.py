"""ImportRun, moved from the households app (issue 9) without touching its table (`households_importrun`, created by
households 0002). The content type follows the model, so that admin history and permissions stay attached."""

import django.utils.timezone
from django.db import migrations, models


def _content_type_follows(apps, schema_editor, old: str = "households", new: str = "legacy") -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label=new, model="importrun").exists():
        ContentType.objects.using(db).filter(app_label=old, model="importrun").update(app_label=new)


def _content_type_back(apps, schema_editor) -> None:
    _content_type_follows(apps, schema_editor, old="legacy", new="households")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("households", "0005_importrun_to_legacy"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ImportRun",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        (
                            "file_sha256",
                            models.CharField(db_index=True, max_length=64, verbose_name="empreinte SHA-256 du fichier"),
                        ),
                        ("file_name", models.CharField(blank=True, max_length=255, verbose_name="nom du fichier")),
                        ("batch_size", models.PositiveIntegerField(verbose_name="dossiers par lot")),
                        ("total_cases", models.PositiveIntegerField(verbose_name="dossiers valides à importer")),
                        ("rejected_cases", models.PositiveIntegerField(default=0, verbose_name="dossiers refusés")),
                        ("error_count", models.PositiveIntegerField(default=0, verbose_name="erreurs")),
                        ("batches_done", models.PositiveIntegerField(default=0, verbose_name="lots enregistrés")),
                        ("cases_done", models.PositiveIntegerField(default=0, verbose_name="dossiers enregistrés")),
                        (
                            "started_at",
                            models.DateTimeField(default=django.utils.timezone.now, verbose_name="commencé le"),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True, verbose_name="dernier lot le")),
                        ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="terminé le")),
                    ],
                    options={
                        "verbose_name": "import de l'export historique",
                        "verbose_name_plural": "imports de l'export historique",
                        "ordering": ["-started_at", "-id"],
                        "db_table": "households_importrun",
                    },
                ),
            ],
        ),
        migrations.RunPython(_content_type_follows, _content_type_back, elidable=True),
    ]
