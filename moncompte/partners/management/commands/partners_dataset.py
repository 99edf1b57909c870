"""`manage.py partners_dataset DATASET.json`: the reference dataset of the partner simulator (scripts/partners/), built
from the database (`partners.dataset.build_dataset`), and the new applicants to try.

Development only (it refuses to run without DEBUG): the file holds the civil status of everyone in the database,
which is fictitious only on a demo machine. `make run` runs it after `generate_demo_data --import`.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from moncompte.identity.nir import nir_grouped, nir_key
from moncompte.identity.places import PlacesDataMissing, commune_label, country_label
from moncompte.partners.dataset import build_dataset
from moncompte.partners.documents import french_date


def describe(status: dict[str, str]) -> str:
    """« Chloé Garnier, née le 3 mars 1991 à Paris 12e Arrondissement (75112) », from the registry's record."""
    born = "née" if status["sexe"] == "F" else "né"
    birthplace, country = status["commune_naissance"], status["pays_naissance"]
    try:
        place = commune_label(birthplace) if birthplace else country_label(country)
    except PlacesDataMissing:  # no npm data: the codes
        place = birthplace or country
    where = f"à {place}" if birthplace else f"à l'étranger, {place}"
    day = french_date(date.fromisoformat(status["date_naissance"]))
    return f"{status['prenoms']} {status['nom_naissance']}, {born} le {day} {where}"


class Command(BaseCommand):
    help = "Écrit le jeu de données du simulateur des partenaires (DGFiP, France Travail, Insee, Caf) depuis la base."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dataset", help="Fichier à écrire (JSON).")
        parser.add_argument(
            "--without-documents", action="store_true", help="Sans les PDF des courriers (plus rapide)."
        )

    def handle(self, *args, dataset: str, without_documents: bool, **options):
        if not settings.DEBUG:
            raise CommandError("Le simulateur des partenaires ne sert qu'en développement (DEBUG=true).")
        data = build_dataset(documents=not without_documents)
        path = Path(dataset)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
        path.chmod(0o600)
        self.stdout.write(
            f"{path} : partenaires simulés, {len(data['people'])} personnes et {len(data['cases'])} dossiers "
            "(données fictives)."
        )
        # Fictitious identities, printed in full like generate_demo_data's: trying them is the point.
        self.stdout.write("Nouveaux demandeurs (connus du seul répertoire de l'Insee, pour « Faire une demande ») :")
        for nir in data["new_applicants"]:
            spaced = nir_grouped(f"{nir}{nir_key(nir):02d}")
            self.stdout.write(f"  {spaced}  {describe(data['people'][nir]['etat_civil'])}")
