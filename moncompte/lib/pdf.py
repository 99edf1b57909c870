"""What the PDFs of the service share (receipts, breach reports): ReportLab, A4, the two-column table of facts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle


def a4_document(buffer, *, title: str, author: str) -> SimpleDocTemplate:
    """An A4 document with 18 mm margins; invariant: the same content gives the same bytes (no date, no random id)."""
    return SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=author,
        invariant=True,
    )


def facts_table(rows: Iterable[Sequence[str]], styles) -> Table:
    """Label on the left, value on the right, text escaped, a thin line under each row."""
    body = styles["BodyText"]
    cells = [[Paragraph(escape(str(label)), body), Paragraph(escape(str(value)), body)] for label, value in rows]
    table = Table(cells, colWidths=[70 * mm, 104 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
                ("TEXTCOLOR", (0, 0), (0, -1), colors.HexColor("#3a3a3a")),
            ]
        )
    )
    return table
