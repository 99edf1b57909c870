"""`manage.py generate_demo_data`: write a demo legacy export of fictitious households (`legacy.demo`), print who to
try, and import it with `--import`."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from moncompte.legacy.demo import DEFAULT_CASE_COUNT, DEFAULT_SEED, DemoCase, build_demo_cases, write_demo_csv

TABLE_CASE_COUNT = 20

ROLE_LABELS = {"allocataire": "allocataire", "conjoint": "conjoint(e)", "enfant": "enfant", "autre": "autre"}


class Command(BaseCommand):
    help = (
        "Écrit un export de démonstration (foyers fictifs, NIR à clé valide) au format de l'ancien système, "
        "puis affiche les identités à essayer."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        default_output = Path(settings.VAR_DIR) / "demo.csv"
        parser.add_argument(
            "--output", default=str(default_output), help=f"Fichier à écrire (défaut : {default_output})."
        )
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help=f"Graine du tirage (défaut : {DEFAULT_SEED})."
        )
        parser.add_argument(
            "--cases",
            type=int,
            default=DEFAULT_CASE_COUNT,
            help=f"Nombre de dossiers (défaut : {DEFAULT_CASE_COUNT}).",
        )
        parser.add_argument("--import", dest="run_import", action="store_true", help="Importer le fichier aussitôt.")

    def handle(self, *args, output: str, seed: int, cases: int, run_import: bool, **options):
        demo = build_demo_cases(seed=seed, count=max(1, cases))
        path = write_demo_csv(demo, output)
        people = sum(len(case.members) for case in demo)
        self.stdout.write(f"{path} : {len(demo)} dossiers, {people} personnes (identités fictives).")
        self._print_table(demo[:TABLE_CASE_COUNT])
        if len(demo) > TABLE_CASE_COUNT:
            self.stdout.write(f"… et {len(demo) - TABLE_CASE_COUNT} autres dossiers dans le fichier.")
        if run_import:
            call_command("import_legacy", str(path), again=True, stdout=self.stdout, stderr=self.stderr)

    def _print_table(self, cases: list[DemoCase]) -> None:
        # The demo PINs are fictitious, and showing them is the point of this command: this is the ONLY place in the
        # project where a case PIN is ever printed. The import, the logs and the journal never show one.
        header = (
            "Profil",
            "Personne",
            "Né(e) le",
            "NIR",
            "Dossier",
            "Rôle",
            "Mot de passe dossier",
            "Contacts connus",
        )
        rows = []
        for case in cases:
            for person in case.members:
                knows_pin = person.role in ("allocataire", "conjoint")
                contacts = " / ".join(value for value in (person.email, person.mobile) if value) or "aucun"
                rows.append(
                    (
                        case.profile if person is case.members[0] else "",
                        person.display_name,
                        person.birth_date.strftime("%d/%m/%Y"),
                        person.nir_spaced or "(sans NIR : identifiant provisoire à l'import)",
                        case.number,
                        ROLE_LABELS[person.role],
                        case.pin if knows_pin else "",
                        contacts,
                    )
                )
        widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
        self.stdout.write("")
        self.stdout.write("  ".join(title.ljust(width) for title, width in zip(header, widths, strict=True)).rstrip())
        self.stdout.write("  ".join("-" * width for width in widths))
        for row in rows:
            self.stdout.write(
                "  ".join(str(value).ljust(width) for value, width in zip(row, widths, strict=True)).rstrip()
            )
        self.stdout.write("")
        self.stdout.write(
            "Première connexion : NIR et mot de passe dossier (allocataire ou conjoint). Les autres membres de 15 ans "
            "et plus : « Créer mon compte » sur la page de connexion (NIR, date de naissance, prénom) ; sans "
            "coordonnée connue, l'allocataire approuve la demande depuis « Mon foyer ». Les codes envoyés par "
            "e-mail ou SMS sont lisibles sur /dev/boite-d-envoi/ (mode développement)."
        )
