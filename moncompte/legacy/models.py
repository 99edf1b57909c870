"""Checkpoints of the legacy import (`manage.py import_legacy`): one row per run over one file."""

from django.db import models
from django.utils import timezone


class ImportRun(models.Model):
    """One run of the legacy import over one file, committed batch by batch.

    A run is identified by the SHA-256 of the file: a re-run of the same file after a crash resumes at the first
    batch not yet committed (each batch commits its cases and this checkpoint in one transaction).
    """

    file_sha256 = models.CharField("empreinte SHA-256 du fichier", max_length=64, db_index=True)
    file_name = models.CharField("nom du fichier", max_length=255, blank=True)
    batch_size = models.PositiveIntegerField("dossiers par lot")
    total_cases = models.PositiveIntegerField("dossiers valides à importer")
    rejected_cases = models.PositiveIntegerField("dossiers refusés", default=0)
    error_count = models.PositiveIntegerField("erreurs", default=0)
    batches_done = models.PositiveIntegerField("lots enregistrés", default=0)
    cases_done = models.PositiveIntegerField("dossiers enregistrés", default=0)
    started_at = models.DateTimeField("commencé le", default=timezone.now)
    updated_at = models.DateTimeField("dernier lot le", auto_now=True)
    finished_at = models.DateTimeField("terminé le", null=True, blank=True)

    class Meta:
        verbose_name = "import de l'export historique"
        verbose_name_plural = "imports de l'export historique"
        ordering = ["-started_at", "-id"]
        # Born in the households app (migration households 0002); moved here without touching the table.
        db_table = "households_importrun"

    def __str__(self) -> str:
        state = "terminé" if self.finished_at else "en cours"
        return f"Import {self.file_name or self.file_sha256[:12]} ({state}, {self.cases_done}/{self.total_cases})"
