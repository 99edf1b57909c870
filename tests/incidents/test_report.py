"""Issue 12, item 7: the breach report (GDPR art. 33(3)) generated from the data: the counts are those of
`affected`, the measures those of the timeline, the 72-hour deadline and its lateness, no data of any person
concerned in any of its forms (JSON, Markdown, PDF), and a default text for the likely consequences."""

import base64
import copy
import datetime
import json
import re
import zlib

import pytest
from django.core.management import CommandError, call_command

from moncompte.households import delegation as delegations
from moncompte.incidents import services
from moncompte.incidents.affected import affected
from moncompte.incidents.models import Step, WorkItem
from moncompte.incidents.report import report_data, report_json, report_markdown, report_pdf
from moncompte.journal.context import acting
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from tests.factories import family
from tests.incidents.conftest import OCTOBER_10
from tests.incidents.helpers import entry_at, look_at

HOUR = datetime.timedelta(hours=1)
ACTOR = "equipe-securite"
HEADINGS = [
    "Nature de la violation",
    "Catégories et nombre approximatif de personnes et d'enregistrements",
    "Délégué à la protection des données",
    "Conséquences probables",
    "Mesures prises ou envisagées",
    "Chronologie",
    "Délai de 72 heures",
]


@pytest.fixture
def scene(db, incident):
    """Three households. In the window the Aubert holder's session shows the Barre case (a foreign page) and her own,
    she signs in, grants the delegation (her partner is told by e-mail) and resets her password; the Caron holder,
    whose password dates from September, signs in (left out). Then the team counts, cancels (a dry run first),
    closes every channel for the incident and reopens, and an agent handles one item of the worklist."""
    aubert, barre, caron = family(), family(), family()
    entry_at(OCTOBER_10 - 30 * 24 * HOUR, "password.created", actor=caron.holder_account, person=caron.holder)
    look_at(OCTOBER_10 + HOUR, aubert.holder_account, case=barre.case)
    look_at(OCTOBER_10 + HOUR, aubert.holder_account, case=aubert.case)
    entry_at(OCTOBER_10 + HOUR, "login.succeeded", actor=aubert.holder_account, person=aubert.holder)
    with acting(actor_account_id=aubert.holder_account.pk):
        delegations.delegation_grant(case=aubert.case, holder=aubert.holder, partner=aubert.partner)
    Entry.objects.filter(kind="delegation.granted").update(created_at=OCTOBER_10 + 2 * HOUR)
    OutboxMessage.objects.update(created_at=OCTOBER_10 + 2 * HOUR)
    entry_at(OCTOBER_10 + 3 * HOUR, "login.succeeded", actor=caron.holder_account, person=caron.holder)
    entry_at(OCTOBER_10 + 4 * HOUR, "password.reset", actor=aubert.holder_account, person=aubert.holder)

    services.affected_count(incident, actor=ACTOR)
    services.window_cancel(incident, dry_run=True, actor=ACTOR)
    services.window_cancel(incident, dry_run=False, actor=ACTOR)
    services.service_close(reason="Pages d'autres allocataires montrées", actor=ACTOR, incident=incident)
    services.service_reopen(actor=ACTOR)
    services.work_items_done([WorkItem.objects.filter(incident=incident).first()], actor="agent-accueil")
    return aubert, barre, caron


def pdf_text(pdf: bytes) -> str:
    """The text of a ReportLab PDF: its streams decoded (ASCII85, then Flate) and the strings of their text
    operators unescaped; pypdf is not in the venv."""
    streams = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\n?endstream", pdf, re.S):
        header, body = pdf[max(0, match.start() - 300) : match.start()], match.group(1)
        header = header[header.rfind(b"<<") :]
        if b"ASCII85Decode" in header:
            body = base64.a85decode(body.strip(), adobe=True)
        if b"FlateDecode" in header:
            body = zlib.decompress(body)
        streams.append(body)
    text = b"\n".join(streams)
    text = re.sub(
        rb"\\([0-7]{1,3}|.)",
        lambda m: bytes([int(m.group(1), 8)]) if m.group(1).isdigit() else m.group(1),
        text,
    )
    return text.decode("cp1252", errors="replace")


def private_data(*households) -> list[str]:
    """Everything that names or reaches a person of these households."""
    found = []
    for household in households:
        people = [household.holder, household.partner, *household.children]
        found.append(household.case.case_number)
        for person in people:
            found += [person.nir, person.birth_name, person.given_names, person.full_name]
            found += [person.email_on_file, person.mobile_on_file]
        for account in (household.holder_account, household.partner_account):
            found += [account.login_id, account.email]
    return [value for value in found if value]


@pytest.mark.django_db
def test_the_counts_are_those_of_affected(scene, incident):
    data = report_data(incident)

    counts = affected(*services.window_of(incident)).counts()
    counted = data["people_and_records"]
    assert counted["people"] | counted["records"] == counts
    assert counted["records"] == {"looks": 2, "actions": 4}
    assert counted["people"]["concerned"] == 4  # the Barre household of three (seen), the Aubert holder (acted)
    assert counted["people"]["excluded_password_before"] == 1  # the Caron holder
    markdown = report_markdown(data)
    assert "- **Personnes concernées :** 4" in markdown
    assert "- **Consultations enregistrées dans la période :** 2" in markdown


@pytest.mark.django_db
def test_the_report_is_json_and_tells_the_nature_of_the_breach(scene, incident, settings):
    settings.DPO_CONTACT = "dpo@caf-exemple.fr"
    settings.LEGAL_PUBLISHER = ""
    data = report_data(incident)

    assert json.loads(report_json(data)) == data
    assert report_json(data) == json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    nature = data["nature"]
    assert nature["reference"] == incident.reference and nature["title"] == "Accès croisés aux dossiers"
    assert nature["window_start"] == "2021-10-10T21:00:00+02:00"
    assert nature["window_end"] == "2021-10-11T08:00:00+02:00"
    assert nature["detected_at"] == "2021-10-11T07:00:00+02:00"
    assert nature["categories"] == [
        {"code": "identity", "label": "Identité (nom, prénoms, date et lieu de naissance, NIR)"},
        {"code": "payments", "label": "Paiements et montants des prestations"},
    ]
    assert data["dpo"] == {"contact": "dpo@caf-exemple.fr"}
    assert data["controller"]["name"] == "Caisse d'allocations familiales"

    settings.LEGAL_PUBLISHER = "Caf de Paris"
    assert report_data(incident)["controller"]["name"] == "Caf de Paris"


@pytest.mark.django_db
def test_the_measures_come_from_the_closures_the_cancellation_the_worklist_and_the_timeline(scene, incident):
    services.window_cancel(incident, dry_run=True, actor=ACTOR)  # a dry run after the cancellation: not the one
    services.service_close(reason="Autre chose", actor=ACTOR)  # a closure for no incident: not listed
    services.service_reopen(actor=ACTOR)
    data = report_data(incident)
    measures = data["measures"]

    closure = incident.closures.get()
    assert measures["closures"] == [
        {
            "closed_at": closure.closed_at.astimezone(OCTOBER_10.tzinfo).replace(microsecond=0).isoformat(),
            "reopened_at": closure.reopened_at.astimezone(OCTOBER_10.tzinfo).replace(microsecond=0).isoformat(),
            "still_closed": False,
            "duration_seconds": round((closure.reopened_at - closure.closed_at).total_seconds()),
            "reason": "Pages d'autres allocataires montrées",
        }
    ]
    cancelled = incident.steps.get(kind=Step.Kind.CANCELLED)
    assert measures["cancellation"]["status"] == "cancelled" and measures["cancellation"]["dry_run"] is False
    assert measures["cancellation"]["figures"] == cancelled.figures
    assert cancelled.figures["undone"] == 1  # the delegation

    items = WorkItem.objects.filter(incident=incident)
    worklist = measures["worklist"]
    assert (worklist["total"], worklist["done"], worklist["to_do"]) == (items.count(), 1, items.count() - 1)
    for kind in (WorkItem.Kind.ACTION, WorkItem.Kind.MESSAGE):
        assert worklist["by_kind"][kind]["total"] == items.filter(kind=kind).count() > 0
    assert measures["notices"]["status"] == "not_yet"

    steps = list(incident.steps.all())
    assert [(s["kind"], s["label"], s["text"], s["actor"]) for s in data["timeline"]] == [
        (step.kind, step.get_kind_display(), step.text, step.actor) for step in steps
    ]
    assert [s["kind"] for s in data["timeline"]][:6] == [
        "opened",
        "counted",
        "dry_run",
        "cancelled",
        "site_closed",
        "site_reopened",
    ]
    assert data["timeline"][1]["figures"] == steps[1].figures


@pytest.mark.django_db
def test_a_dry_run_only_is_said_and_the_notices_are_read_from_their_step(incident):
    assert report_data(incident)["measures"]["cancellation"]["status"] == "not_yet"
    services.window_cancel(incident, dry_run=True, actor=ACTOR)
    cancellation = report_data(incident)["measures"]["cancellation"]
    assert cancellation["status"] == "dry_run" and cancellation["dry_run"] is True
    assert "Pas encore faite : chiffres de l'annulation à blanc" in report_markdown(report_data(incident))

    assert "Pas encore envoyés." in report_markdown(report_data(incident))
    figures = {"notified": 1234, "messages": 2000, "no_contact": 3, "already": 0}
    services.step_add(incident, Step.Kind.NOTIFIED, "1234 personnes prévenues", actor=ACTOR, figures=figures)
    data = report_data(incident)
    assert data["measures"]["notices"]["status"] == "sent" and data["measures"]["notices"]["figures"] == figures
    assert "- **Personnes prévenues :** 1\u00a0234" in report_markdown(data)


@pytest.mark.django_db
def test_the_deadline_is_72_hours_after_detection_and_a_notification_within_it_is_on_time(incident):
    services.incident_update(incident, actor=ACTOR, authority_notified_at=incident.detected_at + 71 * HOUR)
    notification = report_data(incident)["notification"]

    assert notification["deadline"] == "2021-10-14T07:00:00+02:00"
    assert notification["authority_notified_at"] == "2021-10-14T06:00:00+02:00"
    assert notification["notified"] is True
    assert notification["late"] is False and notification["delay_reasons_required"] is False
    markdown = report_markdown(report_data(incident))
    assert "Notification faite dans le délai, 71 heures" in markdown and "motifs du retard" not in markdown

    services.incident_update(incident, actor=ACTOR, authority_notified_at=incident.detected_at + 72 * HOUR)
    assert report_data(incident)["notification"]["late"] is False  # at 72 hours exactly: still within


@pytest.mark.django_db
def test_a_late_notification_requires_the_reasons_for_the_delay(incident):
    services.incident_update(incident, actor=ACTOR, authority_notified_at=incident.detected_at + 73 * HOUR)
    data = report_data(incident)

    assert data["notification"]["late"] is True and data["notification"]["delay_reasons_required"] is True
    assert data["notification"]["hours_after_detection"] == 73
    markdown = report_markdown(data)
    assert "Notification faite en retard" in markdown
    assert "Les motifs du retard doivent accompagner la notification (RGPD, article 33, paragraphe 1)." in markdown


@pytest.mark.django_db
def test_without_a_notification_it_is_late_only_once_the_deadline_passed(incident):
    before = report_data(incident, now=incident.detected_at + 70 * HOUR)["notification"]
    assert before["notified"] is False and before["late"] is False and before["authority_notified_at"] is None
    after = report_data(incident, now=incident.detected_at + 73 * HOUR)["notification"]
    assert after["late"] is True and after["delay_reasons_required"] is True


@pytest.mark.django_db
def test_no_data_of_any_person_is_in_the_report(scene, incident):
    secrets = private_data(*scene)
    assert len([value for value in secrets if re.fullmatch(r"\d{13}", value)]) >= 9  # every NIR is checked
    data = report_data(incident)
    forms = {"json": report_json(data), "markdown": report_markdown(data), "pdf": pdf_text(report_pdf(data))}

    assert incident.reference in forms["pdf"] and "Accès croisés aux dossiers" in forms["pdf"]  # the text is read
    assert "dpo@moncompte.example" in forms["pdf"]  # an e-mail address in the PDF would be seen
    for name, text in forms.items():
        leaked = [value for value in secrets if value in text]
        assert not leaked, f"{name}: {leaked}"


@pytest.mark.django_db
def test_the_markdown_has_every_part_in_french(scene, incident):
    data = report_data(incident)
    markdown = report_markdown(data)

    lines = markdown.splitlines()
    assert lines[0] == f"# Rapport de violation de données personnelles — {incident.reference}"
    for heading in HEADINGS:
        assert f"## {heading}" in lines, heading
    assert "du 10 octobre 2021 à 21:00 au 11 octobre 2021 à 08:00" in markdown
    assert "- **Échéance de la notification à la CNIL :** 14 octobre 2021 à 07:00" in markdown
    assert "- **Délégué à la protection des données :** dpo@moncompte.example" in markdown
    assert "Fermeture de tous les canaux" in markdown and "Actions de la période annulées" in markdown

    bigger = copy.deepcopy(data)
    bigger["people_and_records"]["records"]["looks"] = 1234567
    assert "- **Consultations enregistrées dans la période :** 1\u00a0234\u00a0567" in report_markdown(bigger)


@pytest.mark.django_db
def test_the_pdf_is_a_pdf_with_the_same_parts(scene, incident):
    pdf = report_pdf(report_data(incident))

    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    for heading in HEADINGS:
        assert heading in text, heading
    assert "10 octobre 2021 à 21:00" in text


@pytest.mark.django_db
def test_the_consequences_default_to_a_text_derived_from_the_categories(incident):
    consequences = report_data(incident)["consequences"]

    assert consequences["is_default"] is True
    assert "usurpation d'identité" in consequences["text"]  # identity
    assert "montants de leurs prestations" in consequences["text"]  # payments
    assert "hameçonnage" in consequences["text"]
    assert "coordonnées bancaires ont pu" not in consequences["text"]  # bank: not a category of this incident
    assert "Texte par défaut" in report_markdown(report_data(incident))

    services.incident_update(incident, actor=ACTOR, consequences="Risque faible : pages vues quelques secondes.")
    consequences = report_data(incident)["consequences"]
    assert consequences == {"text": "Risque faible : pages vues quelques secondes.", "is_default": False}
    assert "Texte par défaut" not in report_markdown(report_data(incident))


@pytest.mark.django_db
def test_the_command_writes_each_format_and_notes_it_on_the_timeline(incident, tmp_path, capsys):
    call_command("incident", "report", str(incident.pk))
    assert "Nature de la violation" in capsys.readouterr().out
    call_command("incident", "report", str(incident.pk), "--format", "json", "--output", str(tmp_path / "r.json"))
    assert json.loads((tmp_path / "r.json").read_text())["incident"]["reference"] == incident.reference
    call_command("incident", "report", str(incident.pk), "--format", "pdf", "--output", str(tmp_path / "r.pdf"))
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    assert incident.steps.filter(kind=Step.Kind.REPORTED).count() == 3
    assert Entry.objects.filter(kind="incident.reported").count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "message"),
    [(["--format", "pdf"], "donnez --output"), (["--output", "/nulle/part/r.md"], "n'existe pas")],
)
def test_the_command_says_what_is_wrong_and_writes_nothing(incident, arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command("incident", "report", str(incident.pk), *arguments)
    assert not incident.steps.filter(kind=Step.Kind.REPORTED).exists()
