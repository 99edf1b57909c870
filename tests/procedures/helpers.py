"""What the procedure tests share (the unit tests here, the page tests in tests/web/procedures, the browser test):
real small files of each accepted type, the answers of a complete housing-aid request, and a draft filled in
through the services as far as a given step."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from reportlab.pdfgen import canvas

from moncompte.procedures import services
from moncompte.procedures.activity_bonus import ACTIVITY_BONUS, last_quarter
from moncompte.procedures.housing_aid import HOUSING_AID
from moncompte.procedures.models import Draft

IBAN = "FR7630006000011234567890189"
#: The same IBAN with its key changed (76 → 77): schwifty says InvalidChecksumDigits.
IBAN_WRONG_KEY = "FR7730006000011234567890189"


def pdf_bytes(text: str = "Bail d'habitation") -> bytes:
    """A real one-page PDF (ReportLab)."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return buffer.getvalue()


def image_bytes(kind: str = "PNG") -> bytes:
    """A real small image (Pillow): "PNG" or "JPEG"."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (30, 90, 200)).save(buffer, format=kind)
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


#: A housing-aid request as a person living alone types it, step by step.
HOUSING = {
    "foyer": {"situation": "alone", "children": "1"},
    "logement": {
        "address": "12 rue des Lilas",
        "postcode": "75012",
        "city": "Paris",
        "tenure": "empty",
        "moved_in": "2025-09-01",
        "landlord": "SCI Lilas",
        "surface": "45",
    },
    "loyer": {"rent": "650,00", "charges": "50"},
    "ressources": {"income": "18 500"},
    "banque": {"account_holder": "Jean Martin", "iban": IBAN},
}


def activity_answers() -> dict[str, dict[str, Any]]:
    """A prime d'activité request; the resources step's fields are named after the last three months."""
    resources = {}
    for month in last_quarter():
        key = f"{month:%Y_%m}"
        resources |= {f"salary_{key}": "1 100", f"allowance_{key}": "0", f"other_{key}": ""}
    return {
        "foyer": {"situation": "alone", "children": "0"},
        "activite": {
            "activity": "employee",
            "employer": "Boulangerie Dupont",
            "since": "2024-03-01",
            "registered": "no",
        },
        "ressources": resources,
    }


def save(draft: Draft, step: str, raw: dict[str, Any], person, *, complete: bool = True) -> Draft:
    draft.refresh_from_db()
    kind = services.kind_of(draft)
    return services.step_save(
        draft=draft, step=kind.step(step), raw=raw, person=person, seen=services.version(draft), complete=complete
    )


def add_lease(draft: Draft, person, content: bytes | None = None, name: str = "bail.pdf"):
    draft.refresh_from_db()
    return services.document_add(
        draft=draft,
        step=HOUSING_AID.step("loyer"),
        slot="bail",
        upload=upload(name, content or pdf_bytes()),
        person=person,
        seen=services.version(draft),
    )


def housing_draft(person, case, *, upto: str | None = None, author=None) -> Draft:
    """A housing-aid draft started by `author` (default `person`), every step completed (the lease included) before
    `upto` (default: all of them, the draft at the summary)."""
    author = author or person
    draft = services.draft_start(kind=HOUSING_AID, person=author, case=case)
    for step in HOUSING_AID.form_steps:
        if step.name == upto:
            break
        if step.name == "loyer":
            add_lease(draft, author)
        draft = save(draft, step.name, HOUSING[step.name], author)
    draft.refresh_from_db()
    return draft


def activity_draft(person, case) -> Draft:
    draft = services.draft_start(kind=ACTIVITY_BONUS, person=person, case=case)
    for name, raw in activity_answers().items():
        draft = save(draft, name, raw, person)
    return draft
