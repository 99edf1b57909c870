"""The security team's actions on an incident and on the service: each runs in one transaction, journals itself and
adds its step to the incident's timeline. Called by the admin and by `manage.py incident`; the caller checks that
the person acting belongs to the security team."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from moncompte.incidents import switch
from moncompte.incidents.models import Closure, DataCategory, Incident, Status, Step, WorkItem
from moncompte.journal import services as journal


class IncidentError(ValueError):
    """A request that cannot be carried out as asked; its message, in French, says why. Nothing was changed."""


def _when(moment: datetime.datetime) -> str:
    return date_format(timezone.localtime(moment), "j F Y à H:i:s")


def window_check(start: datetime.datetime, end: datetime.datetime | None, *, now: datetime.datetime) -> None:
    """Raises IncidentError for a window that ends before it starts or starts in the future."""
    if start > now:
        raise IncidentError("Le début de la période concernée ne peut pas être dans le futur.")
    if end is not None and end <= start:
        raise IncidentError("La fin de la période concernée doit être après son début.")


def categories_check(categories: Iterable[str]) -> list[str]:
    known = set(DataCategory.values)
    categories = list(dict.fromkeys(categories))
    unknown = [code for code in categories if code not in known]
    if unknown:
        possible = ", ".join(DataCategory.values)
        raise IncidentError(
            f"Catégorie de données inconnue : {', '.join(unknown)}. Catégories possibles : {possible}."
        )
    return categories


def step_add(
    incident: Incident, kind: str, text: str = "", *, actor: str, figures: Mapping[str, Any] | None = None
) -> Step:
    """One more step in the incident's timeline (the caller's transaction)."""
    return Step.objects.create(incident=incident, kind=kind, text=text, figures=dict(figures or {}), actor=actor)


@transaction.atomic
def incident_open(
    *,
    title: str,
    description: str,
    detected_at: datetime.datetime,
    window_start: datetime.datetime,
    window_end: datetime.datetime | None = None,
    categories: Iterable[str] = (),
    actor: str,
) -> Incident:
    now = timezone.now()
    if not title.strip() or not description.strip():
        raise IncidentError("Donnez un intitulé et une description de l'incident.")
    window_check(window_start, window_end, now=now)
    if detected_at > now:
        raise IncidentError(
            "La date à laquelle la Caf a eu connaissance de l'incident ne peut pas être dans le futur."
        )
    incident = Incident.objects.create(
        title=title.strip(),
        description=description.strip(),
        detected_at=detected_at,
        window_start=window_start,
        window_end=window_end,
        categories=categories_check(categories),
    )
    step_add(incident, Step.Kind.OPENED, incident.title, actor=actor, figures=_window_figures(incident))
    journal.record("incident.opened", after={"incident": incident.pk, **_window_figures(incident)})
    return incident


def _window_figures(incident: Incident) -> dict[str, Any]:
    return {
        "window_start": incident.window_start.isoformat(),
        "window_end": incident.window_end.isoformat() if incident.window_end else None,
    }


_UNSET: Any = object()


@transaction.atomic
def incident_update(
    incident: Incident,
    *,
    actor: str,
    window_start: datetime.datetime = _UNSET,
    window_end: datetime.datetime | None = _UNSET,
    categories: Iterable[str] = _UNSET,
    status: str = _UNSET,
    consequences: str = _UNSET,
    public_summary: str = _UNSET,
    authority_notified_at: datetime.datetime = _UNSET,
) -> Incident:
    """Change what is known of an incident; each change is a step of its timeline. Nothing given, nothing changed."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    before = _window_figures(incident) | {"status": incident.status, "categories": list(incident.categories)}
    changes: list[str] = []
    start = incident.window_start if window_start is _UNSET else window_start
    end = incident.window_end if window_end is _UNSET else window_end
    if (start, end) != (incident.window_start, incident.window_end):
        window_check(start, end, now=timezone.now())
        incident.window_start, incident.window_end = start, end
        changes.append(f"période du {_when(start)} au {_when(end) if end else '(en cours)'}")
    if categories is not _UNSET:
        categories = categories_check(categories)
        if categories != incident.categories:
            incident.categories = categories
            changes.append("catégories : " + ", ".join(categories))
    if status is not _UNSET and status != incident.status:
        if status not in Status.values:
            raise IncidentError(f"État inconnu : {status}. États possibles : {', '.join(Status.values)}.")
        incident.status = status
        changes.append(f"état : {incident.get_status_display()}")
    if consequences is not _UNSET and consequences.strip() != incident.consequences:
        incident.consequences = consequences.strip()
        changes.append("conséquences probables décrites")
    if public_summary is not _UNSET and public_summary.strip() != incident.public_summary:
        incident.public_summary = public_summary.strip()
        changes.append("texte pour les personnes concernées écrit")
    notified = authority_notified_at is not _UNSET and authority_notified_at != incident.authority_notified_at
    if notified:
        if authority_notified_at > timezone.now():
            raise IncidentError("La date de notification à la CNIL ne peut pas être dans le futur.")
        incident.authority_notified_at = authority_notified_at
        step_add(incident, Step.Kind.AUTHORITY, f"Notifié à la CNIL le {_when(authority_notified_at)}", actor=actor)
    if not changes and not notified:
        return incident
    incident.save()
    if changes:
        step_add(incident, Step.Kind.UPDATED, " ; ".join(changes), actor=actor)
    after = _window_figures(incident) | {"status": incident.status, "categories": list(incident.categories)}
    journal.record(
        "incident.updated", before={"incident": incident.pk, **before}, after={"incident": incident.pk, **after}
    )
    return incident


def note_add(incident: Incident, text: str, *, actor: str) -> Step:
    if not text.strip():
        raise IncidentError("La note est vide.")
    with transaction.atomic():
        step = step_add(incident, Step.Kind.NOTE, text.strip(), actor=actor)
        journal.record("incident.noted", after={"incident": incident.pk, "step": step.pk})
        return step


def current_closure() -> Closure | None:
    return Closure.objects.filter(current=True).select_related("incident").first()


def service_close(*, reason: str, actor: str, incident: Incident | None = None) -> Closure:
    """Close every channel (web pages; the app API and the phone channel ask the same switch). Every process stops
    serving within INCIDENT_SWITCH_POLL_SECONDS; the admin stays open to the security team.

    Raises IncidentError when the service is already closed (nothing changes: the first closure stands)."""
    if not reason.strip():
        raise IncidentError("Donnez le motif de la fermeture.")
    try:
        with transaction.atomic():
            if (open_closure := current_closure()) is not None:
                raise IncidentError(f"Le service est déjà fermé depuis le {_when(open_closure.closed_at)}.")
            closure = Closure.objects.create(reason=reason.strip(), closed_by=actor, incident=incident)
            if incident is not None:
                step_add(incident, Step.Kind.CLOSED, reason.strip(), actor=actor, figures={"closure": closure.pk})
            journal.record("site.closed", after={"closure": closure.pk, "incident": incident.pk if incident else None})
            transaction.on_commit(switch.forget)
    except IntegrityError:  # another closure committed between our check and our insert
        raise IncidentError("Le service vient d'être fermé par quelqu'un d'autre.") from None
    switch.forget()
    return closure


@transaction.atomic
def service_reopen(*, actor: str, note: str = "") -> Closure:
    """Open every channel again. Raises IncidentError when the service is not closed."""
    closure = Closure.objects.select_for_update().filter(current=True).first()
    if closure is None:
        raise IncidentError("Le service n'est pas fermé.")
    closure.reopened_at = timezone.now()
    closure.reopened_by = actor
    closure.current = None
    closure.save(update_fields=["reopened_at", "reopened_by", "current"])
    duration = closure.reopened_at - closure.closed_at
    if closure.incident is not None:
        step_add(
            closure.incident,
            Step.Kind.REOPENED,
            note.strip() or f"Service fermé pendant {_duration(duration)}.",
            actor=actor,
            figures={"closure": closure.pk, "closed_seconds": round(duration.total_seconds())},
        )
    journal.record("site.reopened", after={"closure": closure.pk, "closed_seconds": round(duration.total_seconds())})
    transaction.on_commit(switch.forget)
    switch.forget()
    return closure


def _duration(duration: datetime.timedelta) -> str:
    minutes = round(duration.total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


#: The counts of `affected`, in the security team's words, in the order they are shown.
AFFECTED_LABELS = {
    "looks": "Consultations enregistrées dans la période",
    "actions": "Actions faites dans la période par des personnes connectées",
    "read_outside_household": "Personnes dont les données ont été affichées à un compte extérieur à leur foyer",
    "read_in_household_only": "Personnes dont les données ont été affichées seulement à leur foyer (non concernées)",
    "read_by_agents_only": "Personnes dont les données ont été affichées seulement à un agent (non concernées)",
    "acted": "Personnes qui ont agi dans la période",
    "excluded_password_before": "Personnes écartées : mot de passe choisi avant le début de la période",
    "concerned": "Personnes concernées",
}


def window_of(incident: Incident) -> tuple[datetime.datetime, datetime.datetime]:
    """The incident's window; one still open ends now."""
    return incident.window_start, incident.window_end or timezone.now()


def affected_count(incident: Incident, *, actor: str) -> dict[str, int]:
    """Count the people the incident concerns, by category (incidents.affected), and put the counts on the timeline."""
    from moncompte.incidents.affected import affected

    counts = affected(*window_of(incident)).counts()
    with transaction.atomic():
        step_add(
            incident, Step.Kind.COUNTED, f"{counts['concerned']} personnes concernées", actor=actor, figures=counts
        )
    return counts


def window_cancel(incident: Incident, *, dry_run: bool, actor: str, progress=None) -> dict:
    """Cancel every action of the incident's window (incidents.cancellation), or only count what would be done.
    Raises IncidentError when it was done already (nothing changes); a run that was interrupted is not done: running
    it again goes on."""
    from moncompte.incidents.cancellation import cancel

    done = incident.steps.filter(kind=Step.Kind.CANCELLED).first()
    if done is not None and not dry_run:
        raise IncidentError(
            f"Les actions de la période ont déjà été annulées le {_when(done.at)}. "
            f"`incident cancel {incident.pk} --dry-run` montre s'il reste quelque chose."
        )
    start, end = window_of(incident)
    figures = cancel(incident, start=start, end=end, dry_run=dry_run, progress=progress).figures()
    text = (
        f"{figures['undone']} actions {'à annuler' if dry_run else 'annulées'}, "
        f"{figures['to_worklist']} actions et {figures['messages']} messages {'à confier' if dry_run else 'confiés'} "
        f"aux agents"
    )
    with transaction.atomic():
        step_add(incident, Step.Kind.DRY_RUN if dry_run else Step.Kind.CANCELLED, text, actor=actor, figures=figures)
        if not dry_run:
            journal.record("incident.window_cancelled", after={"incident": incident.pk, **figures})
    return figures


@transaction.atomic
def work_items_done(items: list[WorkItem], *, actor: str) -> int:
    """An agent handled these items of the worklist."""
    now = timezone.now()
    for item in items:
        item.done_at, item.done_by = now, actor
    WorkItem.objects.bulk_update(items, ["done_at", "done_by"])
    if items:
        journal.record("incident.work_done", after={"work_items": [item.pk for item in items]})
    return len(items)


def people_notify(incident: Incident, *, actor: str, rate: float | None = None, progress=None) -> dict[str, int]:
    """Send each person the incident concerns their individual notice (incidents.notices), once per person however
    many runs. Raises IncidentError before the window's actions are cancelled (the notice says what was) or while
    the text for the public is missing."""
    from django.conf import settings

    from moncompte.incidents.notices import notify

    if not incident.public_summary.strip():
        raise IncidentError(
            f"Écrivez d'abord ce qui s'est passé, pour les personnes concernées : "
            f'`incident update {incident.pk} --public-summary "…"`.'
        )
    if not incident.steps.filter(kind=Step.Kind.CANCELLED).exists():
        raise IncidentError(
            f"Annulez d'abord les actions de la période (`incident cancel {incident.pk}`) : l'avis dit ce qui a été "
            f"annulé."
        )
    start, end = window_of(incident)
    figures = notify(
        incident, start=start, end=end, rate=rate or settings.INCIDENT_NOTICE_RATE, progress=progress
    ).figures()
    with transaction.atomic():
        step_add(
            incident,
            Step.Kind.NOTIFIED,
            f"{figures['notified']} personnes prévenues ({figures['messages']} messages), "
            f"{figures['no_contact']} à prévenir par courrier",
            actor=actor,
            figures=figures,
        )
        journal.record("incident.notified", after={"incident": incident.pk, **figures})
    return figures


REPORT_FORMATS = ("md", "pdf", "json")


def report_make(incident: Incident, *, fmt: str, actor: str) -> bytes:
    """The breach report (GDPR art. 33(3)) in Markdown, PDF or JSON (incidents.report), as bytes; the timeline notes
    that it was produced."""
    from moncompte.incidents import report

    if fmt not in REPORT_FORMATS:
        raise IncidentError(f"Format inconnu : {fmt}. Formats possibles : {', '.join(REPORT_FORMATS)}.")
    data = report.report_data(incident)
    content = {
        "md": lambda: report.report_markdown(data).encode(),
        "pdf": lambda: report.report_pdf(data),
        "json": lambda: report.report_json(data).encode(),
    }[fmt]()
    with transaction.atomic():
        step_add(incident, Step.Kind.REPORTED, f"Rapport de violation ({fmt}, {len(content)} octets)", actor=actor)
        journal.record("incident.reported", after={"incident": incident.pk, "format": fmt})
    return content
