"""The fictitious letters of the reference dataset, as small real PDFs (ReportLab, its built-in Helvetica: no font
file to ship). `invariant` mode: the same letter gives the same bytes, so the dataset is deterministic."""

from __future__ import annotations

import io
import textwrap
from datetime import date

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def french_date(day: date) -> str:
    return f"{day.day}{'er' if day.day == 1 else ''} {MONTHS[day.month - 1]} {day.year}"


def letter_pdf(*, case_number: str, recipient: str, sent_on: date, subject: str, paragraphs: list[str]) -> bytes:
    """One page: the agency's header, the date, the recipient and case number, the subject, the text."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    page.setTitle(subject)
    page.setAuthor("Caisse d'allocations familiales (démonstration)")
    width, height = A4
    left, y = 25 * mm, height - 30 * mm
    page.setFont("Helvetica-Bold", 14)
    page.drawString(left, y, "Caisse d'allocations familiales")
    page.setFont("Helvetica", 9)
    page.drawString(left, y - 5 * mm, "Document fictif produit par le simulateur des partenaires de Mon Compte")
    page.setFont("Helvetica", 11)
    page.drawRightString(width - 25 * mm, y - 20 * mm, f"Le {french_date(sent_on)}")
    page.drawString(left, y - 30 * mm, recipient)
    page.drawString(left, y - 36 * mm, f"Dossier n° {case_number}")
    page.setFont("Helvetica-Bold", 11)
    page.drawString(left, y - 50 * mm, f"Objet : {subject}")
    page.setFont("Helvetica", 11)
    y -= 62 * mm
    for paragraph in paragraphs:
        for line in textwrap.wrap(paragraph, 88):
            page.drawString(left, y, line)
            y -= 5.5 * mm
        y -= 3 * mm
    page.drawString(left, y - 6 * mm, "Votre Caf")
    page.showPage()
    page.save()
    return buffer.getvalue()
