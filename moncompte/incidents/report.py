"""The breach report of an incident (issue 12, item 7): what GDPR art. 33(3) asks the notification to the CNIL to
contain, computed from the database only, for machines (`report_data`, `report_json`) and for people
(`report_markdown`, `report_pdf`, in French).

    (a) the nature of the breach, the categories of data, and the approximate numbers of people and of records
        concerned (incidents.affected, counted on the incident's window);
    (b) the data protection officer to contact, and the controller;
    (c) the likely consequences (the security team's text, or a default derived from the categories);
    (d) the measures taken or proposed: the closures of the service, the cancellation of the window, the agents'
        worklist, the notices to the people concerned, and the whole timeline;
    and the 72-hour deadline of art. 33(1), with whether the notification came late (reasons then required).

The report holds counts only: never a NIR, a name, an e-mail address, a case number or any other data of a person
concerned (the worklist and the notices are counted, not listed)."""

from __future__ import annotations

import datetime
import io
import json
import re
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.db.models import Count, Q
from django.utils import formats, timezone, translation
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer

from moncompte.incidents.affected import affected
from moncompte.incidents.models import DataCategory, Incident, Step, WorkItem
from moncompte.incidents.services import AFFECTED_LABELS, window_of
from moncompte.lib.pdf import a4_document, facts_table

SCHEMA = "moncompte.incidents.report/1"
DEADLINE = datetime.timedelta(hours=72)
DEFAULT_CONTROLLER = "Caisse d'allocations familiales"

PEOPLE_KEYS = (
    "concerned",
    "read_outside_household",
    "acted",
    "read_in_household_only",
    "read_by_agents_only",
    "excluded_password_before",
)
RECORD_KEYS = ("looks", "actions")

HEADINGS = {
    "nature": "Nature de la violation",
    "people_and_records": "Catégories et nombre approximatif de personnes et d'enregistrements",
    "dpo": "Délégué à la protection des données",
    "consequences": "Conséquences probables",
    "measures": "Mesures prises ou envisagées",
    "timeline": "Chronologie",
    "notification": "Délai de 72 heures",
}

#: What each category of data exposes the people concerned to, for the default text of the likely consequences.
CATEGORY_CONSEQUENCES = {
    DataCategory.IDENTITY: (
        "leur identité (nom, prénoms, date et lieu de naissance, NIR) a pu être connue de tiers, avec un risque "
        "d'usurpation d'identité"
    ),
    DataCategory.CONTACT: (
        "leurs coordonnées (adresse e-mail, téléphone mobile) ont pu être connues de tiers, qui pourraient s'en "
        "servir pour les démarcher ou les tromper"
    ),
    DataCategory.HOUSEHOLD: "la composition de leur foyer (situation familiale, enfants) a pu être connue de tiers",
    DataCategory.PAYMENTS: (
        "les paiements et les montants de leurs prestations ont pu être connus de tiers, ce qui révèle leur "
        "situation sociale et financière"
    ),
    DataCategory.LETTERS: "le contenu des courriers que la Caf leur a adressés a pu être connu de tiers",
    DataCategory.REQUESTS: (
        "leurs demandes de prestation et leurs pièces justificatives ont pu être connues de tiers (situation "
        "personnelle, logement, santé le cas échéant)"
    ),
    DataCategory.INCOME: "leurs ressources et leurs revenus ont pu être connus de tiers",
    DataCategory.BANK: (
        "leurs coordonnées bancaires ont pu être connues de tiers, avec un risque de fraude (prélèvements non "
        "autorisés, détournement des paiements)"
    ),
    DataCategory.SECURITY: "l'historique de leurs connexions a pu être connu de tiers",
}
#: Categories that make a fraudulent message in the agency's name believable.
PHISHING_CATEGORIES = {
    DataCategory.IDENTITY,
    DataCategory.CONTACT,
    DataCategory.HOUSEHOLD,
    DataCategory.PAYMENTS,
    DataCategory.LETTERS,
    DataCategory.BANK,
}
PHISHING = (
    "Ces informations peuvent rendre crédibles des messages frauduleux se réclamant de la Caf (hameçonnage par "
    "courriel, SMS ou téléphone) qui chercheraient à obtenir leurs codes de connexion ou leurs coordonnées bancaires."
)

#: The figures of the timeline's steps, in the security team's words (by kind of step; then any kind).
CANCEL_LABELS = {
    "scanned": "Entrées du journal examinées",
    "undone": "Actions annulées",
    "to_worklist": "Actions confiées aux agents",
    "messages": "Messages déjà envoyés, confiés aux agents",
    "events": "Connexions et autres événements (rien à annuler)",
    "already_undone": "Actions déjà annulées auparavant",
    "undone_by_kind": "Actions annulées, par type",
    "worklist_by_kind": "Actions confiées aux agents, par type",
}
DRY_RUN_LABELS = CANCEL_LABELS | {
    "undone": "Actions à annuler",
    "to_worklist": "Actions à confier aux agents",
    "messages": "Messages déjà envoyés, à confier aux agents",
    "undone_by_kind": "Actions à annuler, par type",
    "worklist_by_kind": "Actions à confier aux agents, par type",
}
NOTICE_LABELS = {
    "notified": "Personnes prévenues",
    "messages": "Messages envoyés",
    "no_contact": "Personnes à prévenir par courrier (aucune coordonnée validée)",
    "already": "Personnes déjà prévenues auparavant",
}
FIGURE_LABELS = {
    Step.Kind.COUNTED: AFFECTED_LABELS,
    Step.Kind.CANCELLED: CANCEL_LABELS,
    Step.Kind.DRY_RUN: DRY_RUN_LABELS,
    Step.Kind.NOTIFIED: NOTICE_LABELS,
}
COMMON_LABELS = {
    "window_start": "Début de la période",
    "window_end": "Fin de la période",
    "closure": "Fermeture n°",
    "closed_seconds": "Durée de la fermeture",
}


# -- The data -------------------------------------------------------------------------------------------------------


def _iso(moment: datetime.datetime | None) -> str | None:
    return timezone.localtime(moment).replace(microsecond=0).isoformat() if moment else None


def report_data(incident: Incident, *, now: datetime.datetime | None = None) -> dict[str, Any]:
    """The breach report of `incident`, read afresh from the database: a JSON-serialisable dict of counts, dates and
    the security team's texts, with no data of any person concerned. `now` (default: the current time) ends a
    window still open and decides whether a notification not made yet is already late."""
    now = now or timezone.now()
    incident = Incident.objects.get(pk=incident.pk)
    start, end = window_of(incident)
    if incident.window_end is None:
        end = now
    counts = affected(start, end).counts()
    categories = [
        {"code": code, "label": label}
        for code, label in zip(incident.categories, incident.category_labels(), strict=True)
    ]
    consequences = incident.consequences.strip()
    steps = list(incident.steps.all())
    return {
        "schema": SCHEMA,
        "generated_at": _iso(now),
        "site": settings.SITE_TITLE,
        "incident": {
            "id": incident.pk,
            "reference": incident.reference,
            "title": incident.title,
            "status": incident.status,
            "status_label": str(incident.get_status_display()),
        },
        "nature": {
            "reference": incident.reference,
            "title": incident.title,
            "description": incident.description,
            "categories": categories,
            "window_start": _iso(incident.window_start),
            "window_end": _iso(incident.window_end),
            "window_open": incident.window_end is None,
            "detected_at": _iso(incident.detected_at),
        },
        "people_and_records": {
            "counted_from": _iso(start),
            "counted_until": _iso(end),
            "people": {key: counts[key] for key in PEOPLE_KEYS},
            "records": {key: counts[key] for key in RECORD_KEYS},
            "labels": {key: AFFECTED_LABELS[key] for key in PEOPLE_KEYS + RECORD_KEYS},
        },
        "dpo": {"contact": settings.DPO_CONTACT},
        "controller": {
            "name": settings.LEGAL_PUBLISHER or DEFAULT_CONTROLLER,
            "address": getattr(settings, "LEGAL_PUBLISHER_ADDRESS", ""),
        },
        "consequences": {
            "text": consequences or default_consequences(incident.categories),
            "is_default": not consequences,
        },
        "measures": {
            "closures": _closures(incident),
            "cancellation": _cancellation(steps),
            "worklist": _worklist(incident),
            "notices": _notices(steps),
        },
        "timeline": [
            {
                "at": _iso(step.at),
                "kind": step.kind,
                "label": step.get_kind_display(),
                "text": step.text,
                "actor": step.actor,
                "figures": step.figures,
            }
            for step in steps
        ],
        "notification": _notification(incident, now),
    }


def default_consequences(categories: list[str]) -> str:
    """The likely consequences derived from the categories of data, for when the security team wrote none."""
    risks = [CATEGORY_CONSEQUENCES[code] for code in DataCategory.values if code in categories]
    if not risks:
        return (
            "Les données des personnes concernées ont pu être connues de tiers. Les catégories de données concernées "
            "ne sont pas encore précisées : les conséquences probables restent à évaluer."
        )
    text = (
        "Les données des personnes concernées ont pu être affichées à d'autres personnes connectées au service : "
        + " ; ".join(risks)
        + "."
    )
    if PHISHING_CATEGORIES & set(categories):
        text += " " + PHISHING
    return text


def _closures(incident: Incident) -> list[dict[str, Any]]:
    closures = []
    for closure in incident.closures.order_by("closed_at", "id"):
        reopened = closure.reopened_at
        closures.append(
            {
                "closed_at": _iso(closure.closed_at),
                "reopened_at": _iso(reopened),
                "still_closed": reopened is None,
                "duration_seconds": round((reopened - closure.closed_at).total_seconds()) if reopened else None,
                "reason": closure.reason,
            }
        )
    return closures


def _latest(steps: list[Step], kind: str) -> Step | None:
    found = [step for step in steps if step.kind == kind]
    return found[-1] if found else None


def _cancellation(steps: list[Step]) -> dict[str, Any]:
    """The latest cancellation of the window; or, when none was made yet, the latest dry run ("status" says which)."""
    step = _latest(steps, Step.Kind.CANCELLED)
    status = "cancelled"
    if step is None:
        step, status = _latest(steps, Step.Kind.DRY_RUN), "dry_run"
    if step is None:
        return {"status": "not_yet", "dry_run": None, "at": None, "text": "", "figures": {}}
    return {
        "status": status,
        "dry_run": status == "dry_run",
        "at": _iso(step.at),
        "text": step.text,
        "figures": step.figures,
    }


def _worklist(incident: Incident) -> dict[str, Any]:
    rows = {
        row["kind"]: row
        for row in WorkItem.objects.filter(incident=incident)
        .values("kind")
        .annotate(total=Count("id"), done=Count("id", filter=Q(done_at__isnull=False)))
        .order_by()
    }
    by_kind = {}
    for kind, label in WorkItem.Kind.choices:
        total, done = rows.get(kind, {}).get("total", 0), rows.get(kind, {}).get("done", 0)
        by_kind[kind] = {"label": str(label), "total": total, "done": done, "to_do": total - done}
    total = sum(row["total"] for row in by_kind.values())
    done = sum(row["done"] for row in by_kind.values())
    return {"total": total, "done": done, "to_do": total - done, "by_kind": by_kind}


def _notices(steps: list[Step]) -> dict[str, Any]:
    step = _latest(steps, Step.Kind.NOTIFIED)
    if step is None:
        return {"status": "not_yet", "at": None, "text": "", "figures": {}}
    return {"status": "sent", "at": _iso(step.at), "text": step.text, "figures": step.figures}


def _notification(incident: Incident, now: datetime.datetime) -> dict[str, Any]:
    """GDPR art. 33(1): within 72 hours of becoming aware of the breach; later, the reasons for the delay."""
    deadline = incident.detected_at + DEADLINE
    notified = incident.authority_notified_at
    late = notified > deadline if notified else now > deadline
    return {
        "detected_at": _iso(incident.detected_at),
        "deadline": _iso(deadline),
        "authority_notified_at": _iso(notified),
        "notified": notified is not None,
        "hours_after_detection": (
            round((notified - incident.detected_at).total_seconds() / 3600, 1) if notified else None
        ),
        "late": late,
        "delay_reasons_required": late,
    }


def report_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)


# -- For people: one document, written as Markdown or as a PDF ------------------------------------------------------

#: A document is a list of blocks: ("title" | "h2" | "h3" | "p" | "note", text), ("rows", [(label, value)]),
#: ("list", [text]). Texts are plain; each writer escapes them.
Block = tuple[str, Any]


def _date(value: str | None, *, seconds: bool = False) -> str:
    if not value:
        return "—"
    moment = timezone.localtime(datetime.datetime.fromisoformat(value))
    with translation.override("fr"):
        return formats.date_format(moment, "j F Y à H:i:s" if seconds else "j F Y à H:i")


def _number(value: Any) -> str:
    """12345 → "12 345" (a non-breaking space between thousands), 2.5 → "2,5"."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—" if value is None else str(value)
    if isinstance(value, float) and not value.is_integer():
        whole, _, decimals = f"{value:,.1f}".partition(".")
        return whole.replace(",", "\u00a0") + "," + decimals
    return f"{int(value):,}".replace(",", "\u00a0")


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"{_number(seconds)} s"
    hours, minutes = divmod(minutes, 60)
    if hours >= 24:
        days, hours = divmod(hours, 24)
        return f"{_number(days)} j {hours} h {minutes:02d} min"
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _figure(key: str, value: Any) -> str:
    if key == "closed_seconds":
        return _duration(value)
    if key in ("window_start", "window_end"):
        return _date(value) if value else "en cours"
    if isinstance(value, Mapping):
        return ", ".join(f"{name} : {_number(count)}" for name, count in value.items()) or "aucune"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "—"
    return _number(value)


def _figure_rows(kind: str, figures: Mapping[str, Any]) -> list[tuple[str, str]]:
    labels = FIGURE_LABELS.get(kind, {}) | {
        k: v for k, v in COMMON_LABELS.items() if k not in FIGURE_LABELS.get(kind, {})
    }
    return [(labels.get(key, key), _figure(key, value)) for key, value in figures.items()]


def _period(start: str | None, end: str | None) -> str:
    return f"du {_date(start)} au {_date(end)}" if end else f"depuis le {_date(start)} (en cours)"


def _document(data: dict) -> tuple[str, list[Block]]:
    nature, counted, measures = data["nature"], data["people_and_records"], data["measures"]
    notification, controller = data["notification"], data["controller"]
    title = f"Rapport de violation de données personnelles — {nature['reference']}"
    blocks: list[Block] = [
        ("title", title),
        (
            "p",
            f"{nature['title']}. Rapport établi le {_date(data['generated_at'])} par {data['site']}, à partir des "
            f"données de l'incident, pour la notification à la CNIL (RGPD, article 33). Il ne contient que des "
            f"nombres : aucune donnée des personnes concernées.",
        ),
        (
            "rows",
            [("Responsable du traitement", controller["name"]), ("Référence de l'incident", nature["reference"])],
        ),
        ("h2", HEADINGS["nature"]),
        (
            "rows",
            [
                ("Référence", nature["reference"]),
                ("Intitulé", nature["title"]),
                ("État", data["incident"]["status_label"]),
                ("Connue de la Caf le", _date(nature["detected_at"])),
                ("Période concernée", _period(nature["window_start"], nature["window_end"])),
            ],
        ),
        ("h3", "Description"),
        ("p", nature["description"]),
        ("h3", "Catégories de données concernées"),
    ]
    if nature["categories"]:
        blocks.append(("list", [f"{c['label']} ({c['code']})" for c in nature["categories"]]))
    else:
        blocks.append(("p", "Pas encore précisées."))

    labels = counted["labels"]
    blocks += [
        ("h2", HEADINGS["people_and_records"]),
        (
            "p",
            f"Comptés {_period(counted['counted_from'], counted['counted_until'])} à partir du journal des actions "
            f"et de l'enregistrement des consultations. Les personnes concernées sont celles dont les données ont "
            f"été affichées à un compte extérieur à leur foyer et celles qui ont agi dans la période, hors personnes "
            f"écartées.",
        ),
        ("h3", "Personnes"),
        ("rows", [(labels.get(key, key), _number(value)) for key, value in counted["people"].items()]),
        ("h3", "Enregistrements"),
        ("rows", [(labels.get(key, key), _number(value)) for key, value in counted["records"].items()]),
        ("h2", HEADINGS["dpo"]),
        (
            "rows",
            [
                ("Délégué à la protection des données", data["dpo"]["contact"]),
                ("Responsable du traitement", controller["name"]),
            ]
            + ([("Adresse du responsable du traitement", controller["address"])] if controller.get("address") else []),
        ),
    ]

    blocks += [("h2", HEADINGS["consequences"]), ("p", data["consequences"]["text"])]
    if data["consequences"]["is_default"]:
        blocks.append(
            (
                "note",
                "Texte par défaut, déduit des catégories de données : l'équipe de sécurité ne l'a pas encore décrit.",
            )
        )

    blocks += [("h2", HEADINGS["measures"]), ("h3", "Fermeture de tous les canaux")]
    closures = measures["closures"]
    if closures:
        items = []
        for closure in closures:
            if closure["still_closed"]:
                item = f"Fermé le {_date(closure['closed_at'])}, toujours fermé"
            else:
                item = (
                    f"Fermé le {_date(closure['closed_at'])}, rouvert le {_date(closure['reopened_at'])} "
                    f"(fermé pendant {_duration(closure['duration_seconds'])})"
                )
            items.append(f"{item} — motif : {closure['reason']}" if closure["reason"] else item)
        blocks.append(("list", items))
    else:
        blocks.append(("p", "Aucune fermeture du service liée à cet incident."))

    blocks.append(("h3", "Annulation des actions de la période"))
    cancellation = measures["cancellation"]
    if cancellation["status"] == "not_yet":
        blocks.append(("p", "Pas encore faite, ni à blanc."))
    else:
        kind = Step.Kind.DRY_RUN if cancellation["dry_run"] else Step.Kind.CANCELLED
        if cancellation["dry_run"]:
            said = f"Pas encore faite : chiffres de l'annulation à blanc du {_date(cancellation['at'])}."
        else:
            said = f"Annulation faite le {_date(cancellation['at'])}."
        blocks += [
            ("p", said),
            ("rows", _figure_rows(kind, cancellation["figures"])),
        ]

    worklist = measures["worklist"]
    blocks += [
        ("h3", "Liste de travail des agents"),
        (
            "rows",
            [
                ("Tâches", _number(worklist["total"])),
                ("Traitées", _number(worklist["done"])),
                ("À traiter", _number(worklist["to_do"])),
            ]
            + [
                (
                    row["label"],
                    f"{_number(row['total'])} (traitées : {_number(row['done'])}, "
                    f"à traiter : {_number(row['to_do'])})",
                )
                for row in worklist["by_kind"].values()
            ],
        ),
        ("h3", "Avis aux personnes concernées"),
    ]
    notices = measures["notices"]
    if notices["status"] == "sent":
        blocks += [
            ("p", f"Envoyés le {_date(notices['at'])}."),
            ("rows", _figure_rows(Step.Kind.NOTIFIED, notices["figures"])),
        ]
    else:
        blocks.append(("p", "Pas encore envoyés."))

    blocks.append(("h2", HEADINGS["timeline"]))
    items = []
    for step in data["timeline"]:
        item = f"{_date(step['at'], seconds=True)} — {step['label']}"
        if step["text"]:
            item += f" : {step['text']}"
        if step["actor"]:
            item += f" (par {step['actor']})"
        if step["figures"]:
            item += ". Chiffres : " + " ; ".join(f"{k} : {v}" for k, v in _figure_rows(step["kind"], step["figures"]))
        items.append(item)
    blocks.append(("list", items) if items else ("p", "Aucune étape."))

    blocks += [
        ("h2", HEADINGS["notification"]),
        (
            "rows",
            [
                ("Connue de la Caf le", _date(notification["detected_at"])),
                ("Échéance de la notification à la CNIL", _date(notification["deadline"])),
                (
                    "Notifiée à la CNIL le",
                    _date(notification["authority_notified_at"]) if notification["notified"] else "pas encore",
                ),
            ],
        ),
    ]
    if notification["notified"]:
        after = f"{_number(notification['hours_after_detection'])} heures après la connaissance de la violation"
        if notification["late"]:
            blocks.append(("p", f"Notification faite en retard, {after}."))
        else:
            blocks.append(("p", f"Notification faite dans le délai, {after}."))
    elif notification["late"]:
        blocks.append(("p", "Le délai de 72 heures est dépassé et la CNIL n'a pas encore été notifiée."))
    else:
        blocks.append(("p", f"La CNIL doit être notifiée avant le {_date(notification['deadline'])}."))
    if notification["delay_reasons_required"]:
        blocks.append(
            ("p", "Les motifs du retard doivent accompagner la notification (RGPD, article 33, paragraphe 1).")
        )
    return title, blocks


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _md(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


_BLANKS = re.compile(r"[ \t\r\n\f\v]+")


def _md_line(text: str) -> str:
    """One line of Markdown (the non-breaking spaces of numbers kept)."""
    return _BLANKS.sub(" ", _md(text)).strip()


def report_markdown(data: dict) -> str:
    """The report in French, as Markdown: one heading per part of GDPR art. 33(3), then the timeline and the
    deadline."""
    _, blocks = _document(data)
    lines: list[str] = []
    for kind, content in blocks:
        if kind == "title":
            lines += [f"# {_md_line(content)}", ""]
        elif kind == "h2":
            lines += [f"## {_md_line(content)}", ""]
        elif kind == "h3":
            lines += [f"### {_md_line(content)}", ""]
        elif kind == "p":
            paragraphs = [_md_line(part) for part in re.split(r"\n\s*\n", str(content)) if part.strip()]
            for paragraph in paragraphs or ["—"]:
                lines += [paragraph, ""]
        elif kind == "note":
            lines += [f"*{_md_line(content)}*", ""]
        elif kind == "rows":
            lines += [f"- **{_md_line(label)} :** {_md_line(value)}" for label, value in content] + [""]
        elif kind == "list":
            lines += [f"- {_md_line(item)}" for item in content] + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def report_pdf(data: dict) -> bytes:
    """The report in French, as an A4 PDF (ReportLab), with the content of the Markdown."""
    title, blocks = _document(data)
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    document = a4_document(buffer, title=title, author=data.get("site") or settings.SITE_TITLE)

    def p(text: str, style: str = "BodyText") -> Paragraph:
        return Paragraph(escape(str(text)).replace("\n", "<br/>"), styles[style])

    story: list = [p(data.get("site") or settings.SITE_TITLE, "Normal")]
    for kind, content in blocks:
        if kind == "title":
            story.append(p(content, "Title"))
        elif kind == "h2":
            story += [Spacer(1, 3 * mm), p(content, "Heading2")]
        elif kind == "h3":
            story.append(p(content, "Heading3"))
        elif kind == "p":
            story.append(p(content))
        elif kind == "note":
            story.append(Paragraph(f"<i>{escape(str(content))}</i>", styles["BodyText"]))
        elif kind == "rows":
            story.append(facts_table(content, styles))
        elif kind == "list":
            story += [p(f"• {item}") for item in content]
    reference = data["nature"]["reference"]

    def footer(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(colors.HexColor("#3a3a3a"))
        canvas.drawString(18 * mm, 10 * mm, f"{reference} — rapport de violation de données personnelles")
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"page {doc.page}")
        canvas.restoreState()

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
