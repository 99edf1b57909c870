"""What the agency tests share (here, the page tests in tests/web/case and the browser test): the case system's
records of a case, as the partner simulator serves them (`partners.push(case_records(...))`), with payments inside and
outside the last 24 months, a letter with its PDF, and one request of each kind."""

from __future__ import annotations

import base64
from datetime import date, timedelta
from types import SimpleNamespace

from django.utils import timezone

from moncompte.lib import dates
from moncompte.partners.documents import letter_pdf

HOUSING = "Aide personnalisée au logement"
FAMILY = "Allocations familiales"
#: The subjects of the requests of `case_records`, by what they expect.
REQUEST_SUBJECTS = {
    "document": "Justificatif de domicile",
    "texte": "Votre situation professionnelle",
    "les_deux": "Attestation de loyer",
}


def ids(case_number: str) -> SimpleNamespace:
    """The ids the case system gives this case's letter and requests."""
    return SimpleNamespace(
        letter=f"C-{case_number}-1",
        document=f"D-{case_number}-DOC",
        text=f"D-{case_number}-TXT",
        both=f"D-{case_number}-BOTH",
    )


def _payment(paid_on: date, benefit: str, amount: str) -> dict:
    start = (paid_on.replace(day=1) - timedelta(days=1)).replace(day=1)
    end = paid_on.replace(day=1) - timedelta(days=1)
    return {
        "date": paid_on.isoformat(),
        "prestation": benefit,
        "montant": amount,
        "debut_periode": start.isoformat(),
        "fin_periode": end.isoformat(),
    }


def case_records(case_number: str, *, today: date | None = None, requests: bool = True) -> dict:
    """{"cases": {case_number: …}} for `partners.push`: three payments in the last 24 months, one older (never
    shown), a letter with its PDF, and (unless `requests` is False) three requests of the Caf."""
    today = today or timezone.localdate()
    recent = today.replace(day=5) if today.day >= 5 else (today.replace(day=1) - timedelta(days=1)).replace(day=5)
    old = dates.years_before(today, 2) - timedelta(days=40)
    within = dates.years_before(today, 2) + timedelta(days=20)
    letter_day = today - timedelta(days=12)
    key = ids(case_number)
    record = {
        "paiements": [
            _payment(recent, HOUSING, "245.30"),
            _payment(recent, FAMILY, "1151.23"),
            _payment(within, HOUSING, "239.10"),
            _payment(old, HOUSING, "199.99"),
        ],
        "courriers": [
            {
                "id": key.letter,
                "date": letter_day.isoformat(),
                "objet": "Attestation de paiement",
                "pdf": base64.b64encode(
                    letter_pdf(
                        case_number=case_number,
                        recipient="Madame, Monsieur",
                        sent_on=letter_day,
                        subject="Attestation de paiement",
                        paragraphs=["Madame, Monsieur,", "Nous attestons que vos prestations ont été versées."],
                    )
                ).decode("ascii"),
            }
        ],
        "demandes": [],
    }
    if requests:
        record["demandes"] = [
            {
                "id": key.document,
                "date": (today - timedelta(days=3)).isoformat(),
                "objet": REQUEST_SUBJECTS["document"],
                "texte": "Merci de nous transmettre un justificatif de domicile de moins de trois mois.",
                "attendu": "document",
                "echeance": (today + timedelta(days=27)).isoformat(),
            },
            {
                "id": key.text,
                "date": (today - timedelta(days=5)).isoformat(),
                "objet": REQUEST_SUBJECTS["texte"],
                "texte": "Précisez votre situation professionnelle depuis le début du mois dernier.",
                "attendu": "texte",
                "echeance": None,
            },
            {
                "id": key.both,
                "date": (today - timedelta(days=8)).isoformat(),
                "objet": REQUEST_SUBJECTS["les_deux"],
                "texte": "Déposez l'attestation de loyer signée, avec un mot si votre loyer a changé.",
                "attendu": "les_deux",
                "echeance": (today + timedelta(days=22)).isoformat(),
            },
        ]
    return {"cases": {case_number: record}}
