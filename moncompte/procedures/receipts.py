"""The receipt of a submitted request, as a PDF (ReportLab): the reference, when, by whom, what was declared, the
corrections of partner data and the documents. Built from the frozen submission, so it is the same every time."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from moncompte.lib.pdf import a4_document, facts_table
from moncompte.procedures import registry
from moncompte.procedures.models import Submission


def receipt_context(submission: Submission) -> dict:
    kind = registry.get(submission.kind)
    return {
        "submission": submission,
        "title": kind.title if kind else submission.kind,
        "sections": submission.data.get("summary", []),
        "corrections": submission.corrections,
        "submitted_at": timezone.localtime(submission.submitted_at),
        "provisional_id": submission.author.provisional_id if not submission.author.nir else "",
    }


def receipt_pdf(submission: Submission) -> bytes:
    context = receipt_context(submission)
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    with translation.override(settings.LANGUAGE_CODE):
        title = f"{context['title']} — {_('récépissé')}"
        document = a4_document(buffer, title=title, author=settings.SITE_TITLE)
        p = lambda text, style="BodyText": Paragraph(escape(str(text)), styles[style])  # noqa: E731
        story = [p(settings.SITE_TITLE, "Normal"), p(context["title"], "Title")]
        facts = [
            [_("Référence"), submission.reference],
            [_("Envoyée le"), formats.date_format(context["submitted_at"], "j F Y à H:i")],
            [_("Par"), submission.author.full_name],
        ]
        if submission.case_id:
            facts.append([_("Dossier n°"), submission.case.case_number])
        if context["provisional_id"]:
            facts.append([_("Votre identifiant provisoire"), context["provisional_id"]])
        if submission.withdrawn_at:
            facts.append([_("Annulée le"), formats.date_format(timezone.localtime(submission.withdrawn_at), "j F Y")])
        story += [facts_table(facts, styles), Spacer(1, 6 * mm)]
        for section in context["sections"]:
            story.append(p(section["title"], "Heading2"))
            rows = [list(row) for row in section["rows"]]
            for label, names in section.get("documents", []):
                rows.append([label, ", ".join(names) or _("non fournie")])
            if rows:
                story.append(facts_table(rows, styles))
        if context["corrections"]:
            story.append(p(_("Données des partenaires que vous avez corrigées"), "Heading2"))
            story.append(
                facts_table(
                    [
                        [
                            c["label"],
                            _("%(source)s : %(sent)s — déclaré : %(declared)s")
                            % {
                                "source": c["source"],
                                "sent": c.get("source_display", c["source_value"]),
                                "declared": c.get("declared_display", c["declared_value"]),
                            },
                        ]
                        for c in context["corrections"]
                    ],
                    styles,
                )
            )
        story += [
            Spacer(1, 8 * mm),
            p(
                _(
                    "Ce récépissé atteste que la Caf a reçu votre demande. Il ne vaut pas décision : la Caf vous "
                    "écrira après l'avoir étudiée. Gardez la référence ci-dessus pour toute question."
                )
            ),
        ]
        document.build(story)
    return buffer.getvalue()
