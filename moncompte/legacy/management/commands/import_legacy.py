"""`manage.py import_legacy FILE.csv`: import the legacy export (see legacy/services.py for the rules)."""

from __future__ import annotations

import os
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from moncompte.legacy.services import (
    DEFAULT_BATCH_SIZE,
    ImportProgress,
    ImportReport,
    LegacyFileError,
    import_legacy_file,
)


def number(value: int) -> str:
    """12 000, the French way (a space between thousands)."""
    return f"{value:,}".replace(",", " ")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{number(count)} {singular if count < 2 else (plural_form or singular + 's')}"


def duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def rate(value: float) -> str:
    return f"{value:.1f}".replace(".", ",") if value < 10 else number(round(value))


class Command(BaseCommand):
    help = (
        "Importe l'export de l'ancien système (un fichier CSV UTF-8 séparé par des points-virgules, une ligne "
        "par personne) : valide chaque ligne, n'importe aucun dossier en erreur, met à jour sans doublon si on "
        "le relance, et reprend là où il s'était arrêté s'il a été interrompu."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="Fichier CSV à importer.")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help=f"Processus qui calculent les empreintes des mots de passe dossier (défaut : {os.cpu_count()}, "
            "un par cœur ; 1 : dans ce processus).",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help=f"Dossiers enregistrés par transaction (défaut : {DEFAULT_BATCH_SIZE}, moins pour un petit fichier).",
        )
        parser.add_argument(
            "--again",
            action="store_true",
            help="Appliquer de nouveau un fichier déjà importé en entier (mise à jour des dossiers, sans doublon).",
        )
        parser.add_argument(
            "--quiet", action="store_true", help="N'afficher que les erreurs et le bilan final, sans la progression."
        )

    def execute(self, *args, **options):
        # From the command line, print the French message alone (Django would prefix it with "CommandError: ").
        try:
            return super().execute(*args, **options)
        except CommandError as exc:
            if not getattr(self, "_called_from_command_line", False) or options.get("traceback"):
                raise
            self.stderr.write(str(exc))
            sys.exit(exc.returncode)

    def handle(
        self, *args, file: str, workers: int | None, batch_size: int | None, again: bool, quiet: bool, **options
    ):
        quiet = quiet or options["verbosity"] == 0
        if workers is not None and workers < 1:
            raise CommandError("--workers doit valoir au moins 1.")
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size doit valoir au moins 1.")

        def on_validated(report: ImportReport) -> None:
            for error in report.errors:
                self.stderr.write(str(error))
            if quiet:
                return
            valid = report.cases_in_file - report.rejected_cases
            self.stdout.write(
                f"Fichier lu : {plural(report.rows, 'ligne')}, {plural(report.cases_in_file, 'dossier')} "
                f"dont {plural(valid, 'valide')} et {plural(report.rejected_cases, 'refusé')}."
            )
            if report.resumed_cases:
                done, total = number(report.resumed_cases), number(report.run.total_cases)
                self.stdout.write(
                    f"Reprise de l'import interrompu : {done} / {total} dossiers étaient déjà enregistrés."
                )

        def progress(step: ImportProgress) -> None:
            if quiet:
                return
            percent = 100 * step.done // step.total if step.total else 100
            line = f"  {number(step.done)} / {number(step.total)} dossiers ({percent} %), {rate(step.rate)} dossiers/s"
            if step.eta is not None and step.done < step.total:
                line += f", fin estimée dans {duration(step.eta)}"
            self.stdout.write(line)

        try:
            report = import_legacy_file(
                file, workers=workers, batch_size=batch_size, again=again, progress=progress, on_validated=on_validated
            )
        except LegacyFileError as exc:
            raise CommandError(f"Fichier refusé (rien n'a été importé) : {exc.message}") from None
        except KeyboardInterrupt:
            raise CommandError(
                "Import interrompu. Les lots déjà enregistrés sont conservés : relancez la même commande sur le même "
                "fichier pour terminer l'import.",
                returncode=130,
            ) from None

        if report.already_imported:
            run = report.run
            when = timezone.localtime(run.finished_at)
            rejected = plural(run.rejected_cases, "dossier refusé", "dossiers refusés")
            self.stdout.write(
                f"Ce fichier a déjà été importé le {when:%d/%m/%Y à %H:%M} ({plural(run.cases_done, 'dossier')}, "
                f"{rejected}). Rien n'a été modifié. Pour l'appliquer de nouveau, relancez avec --again."
            )
            return

        self.stdout.write(
            f"Import terminé en {duration(report.elapsed)} : "
            f"{plural(report.cases_imported, 'dossier enregistré', 'dossiers enregistrés')} "
            f"({plural(report.cases_created, 'créé')}, {number(report.cases_updated)} mis à jour), "
            f"{plural(report.people_created, 'personne créée', 'personnes créées')}, "
            f"{plural(report.people_updated, 'personne mise à jour', 'personnes mises à jour')}, "
            f"{plural(report.members_removed, 'membre retiré de son dossier', 'membres retirés de leur dossier')}."
        )
        if report.errors:
            raise CommandError(
                f"{plural(len(report.errors), 'erreur')} : "
                f"{plural(report.rejected_cases, 'dossier non importé', 'dossiers non importés')}. "
                "Corrigez ces lignes puis relancez l'import avec le fichier corrigé : les dossiers déjà importés "
                "seront mis à jour, sans doublon."
            )
