"""`manage.py incident …`: the security team's command line for an incident (the admin offers the same).

    incident open --title T --description D --start "2021-10-10 21:00" [--end …] [--detected …] [--category C]…
    incident list
    incident show N
    incident update N [--start …] [--end …] [--category C]… [--status S] [--consequences T] [--authority-notified …]
    incident note N "texte"
    incident close --reason "…" [--incident N]
    incident reopen [--note "…"]
    incident status
    incident affected N
    incident cancel N [--dry-run]
    incident notify N [--rate 20]
    incident report N [--format md|pdf|json] [--output FILE]

Dates are read in the service's time zone (TIME_ZONE) unless they carry their own offset. Every change is journaled
(channel `command`) and added to the incident's timeline; bad input changes nothing and says why in French."""

from __future__ import annotations

import datetime
import getpass
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.formats import date_format

from moncompte.incidents import services
from moncompte.incidents.models import DataCategory, Incident, Status
from moncompte.journal.context import acting
from moncompte.journal.models import Channel


def moment(text: str) -> datetime.datetime:
    """ "2021-10-10 21:00", "2021-10-10T21:00:00+02:00": an aware datetime; the service's time zone when none given."""
    try:
        value = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(f"Date non comprise : « {text} ». Écrivez-la ainsi : 2021-10-10 21:00.") from None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def shown(value: datetime.datetime | None) -> str:
    return date_format(timezone.localtime(value), "j F Y H:i:s") if value else "—"


class Command(BaseCommand):
    help = "Incidents de sécurité : ouvrir, décrire, fermer et rouvrir le service, consulter la chronologie."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, parser_class=CommandParser)
        opening = actions.add_parser("open", help="ouvrir un incident")
        opening.add_argument("--title", required=True, help="intitulé court")
        opening.add_argument("--description", required=True, help="nature de l'incident")
        opening.add_argument("--start", required=True, help="début de la période concernée")
        opening.add_argument("--end", help="fin de la période concernée (vide : en cours)")
        opening.add_argument("--detected", help="connu de la Caf le (par défaut : maintenant)")
        opening.add_argument("--category", action="append", default=[], choices=DataCategory.values)
        actions.add_parser("list", help="les incidents")
        showing = actions.add_parser("show", help="un incident et sa chronologie")
        showing.add_argument("incident", type=int)
        updating = actions.add_parser("update", help="modifier un incident")
        updating.add_argument("incident", type=int)
        updating.add_argument("--start")
        updating.add_argument("--end")
        updating.add_argument("--category", action="append", choices=DataCategory.values)
        updating.add_argument("--status", choices=Status.values)
        updating.add_argument("--consequences")
        updating.add_argument("--public-summary", dest="public_summary", help="ce qui s'est passé, pour le public")
        updating.add_argument("--authority-notified", dest="authority_notified")
        noting = actions.add_parser("note", help="ajouter une note à la chronologie")
        noting.add_argument("incident", type=int)
        noting.add_argument("text")
        closing = actions.add_parser("close", help="fermer tous les canaux")
        closing.add_argument("--reason", required=True, help="motif (journal et chronologie ; non affiché au public)")
        closing.add_argument("--incident", type=int, help="l'incident qui motive la fermeture")
        reopening = actions.add_parser("reopen", help="rouvrir tous les canaux")
        reopening.add_argument("--note", default="", help="note ajoutée à la chronologie de l'incident")
        actions.add_parser("status", help="le service est-il ouvert ?")
        counting = actions.add_parser("affected", help="compter les personnes concernées, par catégorie")
        counting.add_argument("incident", type=int)
        cancelling = actions.add_parser("cancel", help="annuler toutes les actions de la période")
        cancelling.add_argument("incident", type=int)
        cancelling.add_argument("--dry-run", action="store_true", help="compter sans rien changer")
        reporting = actions.add_parser("report", help="le rapport de violation (RGPD art. 33)")
        reporting.add_argument("incident", type=int)
        reporting.add_argument("--format", dest="fmt", choices=services.REPORT_FORMATS, default="md")
        reporting.add_argument("--output", help="fichier où l'écrire (par défaut : la sortie, sauf pour le PDF)")
        notifying = actions.add_parser("notify", help="prévenir chaque personne concernée (une fois)")
        notifying.add_argument("incident", type=int)
        notifying.add_argument("--rate", type=float, help="personnes par seconde (INCIDENT_NOTICE_RATE)")

    def handle(self, *args, action: str, **options) -> None:
        self.actor = f"manage.py ({getpass.getuser()})"
        with acting(channel=Channel.COMMAND):
            try:
                getattr(self, f"do_{action}")(**options)
            except services.IncidentError as error:
                raise CommandError(str(error)) from None

    def incident(self, number: int) -> Incident:
        incident = Incident.objects.filter(pk=number).first()
        if incident is None:
            raise CommandError(f"Aucun incident n° {number}. `manage.py incident list` donne la liste.")
        return incident

    def do_open(self, *, title, description, start, end, detected, category, **options) -> None:
        incident = services.incident_open(
            title=title,
            description=description,
            window_start=moment(start),
            window_end=moment(end) if end else None,
            detected_at=moment(detected) if detected else timezone.now(),
            categories=category,
            actor=self.actor,
        )
        self.stdout.write(f"Incident n° {incident.pk} ouvert : {incident.reference}.")

    def do_list(self, **options) -> None:
        incidents = Incident.objects.all()
        if not incidents:
            self.stdout.write("Aucun incident.")
        for incident in incidents:
            self.stdout.write(
                f"{incident.pk:>4}  {incident.reference}  {incident.get_status_display():<8}  "
                f"{shown(incident.window_start)} → {shown(incident.window_end)}  {incident.title}"
            )

    def do_show(self, *, incident, **options) -> None:
        incident = self.incident(incident)
        write = self.stdout.write
        write(f"{incident.reference} — {incident.title} ({incident.get_status_display()})")
        write(f"Connu de la Caf le : {shown(incident.detected_at)}")
        write(f"Période concernée : {shown(incident.window_start)} → {shown(incident.window_end)}")
        write(f"Catégories de données : {', '.join(incident.category_labels()) or '—'}")
        write(f"Nature : {incident.description}")
        if incident.consequences:
            write(f"Conséquences probables : {incident.consequences}")
        write(f"Notifié à la CNIL le : {shown(incident.authority_notified_at)}")
        write("Chronologie :")
        for step in incident.steps.all():
            write(f"  {shown(step.at)}  {step.get_kind_display()} — {step.text} ({step.actor})")

    def do_update(
        self, *, incident, start, end, category, status, consequences, public_summary, authority_notified, **options
    ):
        changes = {}
        if start:
            changes["window_start"] = moment(start)
        if end:
            changes["window_end"] = moment(end)
        if category:
            changes["categories"] = category
        if status:
            changes["status"] = status
        if consequences is not None:
            changes["consequences"] = consequences
        if public_summary is not None:
            changes["public_summary"] = public_summary
        if authority_notified:
            changes["authority_notified_at"] = moment(authority_notified)
        if not changes:
            raise CommandError("Rien à modifier : donnez au moins une option (--start, --end, --status…).")
        services.incident_update(self.incident(incident), actor=self.actor, **changes)
        self.stdout.write(f"Incident n° {incident} modifié.")

    def do_note(self, *, incident, text, **options) -> None:
        services.note_add(self.incident(incident), text, actor=self.actor)
        self.stdout.write(f"Note ajoutée à l'incident n° {incident}.")

    def do_close(self, *, reason, incident, **options) -> None:
        closure = services.service_close(
            reason=reason, actor=self.actor, incident=self.incident(incident) if incident else None
        )
        self.stdout.write(
            f"Service fermé le {shown(closure.closed_at)} : chaque processus répond la page de maintenance d'ici "
            f"quelques secondes. `manage.py incident reopen` le rouvre."
        )

    def do_reopen(self, *, note, **options) -> None:
        closure = services.service_reopen(actor=self.actor, note=note)
        self.stdout.write(f"Service rouvert le {shown(closure.reopened_at)} (fermé le {shown(closure.closed_at)}).")

    def do_affected(self, *, incident, **options) -> None:
        incident = self.incident(incident)
        start, end = services.window_of(incident)
        self.stdout.write(f"Période du {shown(start)} au {shown(end)} :")
        counts = services.affected_count(incident, actor=self.actor)
        for key, label in services.AFFECTED_LABELS.items():
            self.stdout.write(f"  {label} : {counts[key]}")

    def do_cancel(self, *, incident, dry_run, **options) -> None:
        incident = self.incident(incident)
        start, end = services.window_of(incident)
        title = "Annulation à blanc" if dry_run else "Annulation"
        self.stdout.write(
            f"{title} des actions du {shown(start)} au {shown(end)}, des plus récentes aux plus anciennes :"
        )
        progress = self.progress(" entrées du journal examinées")
        figures = services.window_cancel(incident, dry_run=dry_run, actor=self.actor, progress=progress)
        verb = "à annuler" if dry_run else "annulées"
        self.stdout.write(f"Actions {verb} : {figures['undone']}")
        for kind, count in figures["undone_by_kind"].items():
            self.stdout.write(f"  {kind} : {count}")
        self.stdout.write(f"Actions pour la liste de travail des agents : {figures['to_worklist']}")
        for kind, count in figures["worklist_by_kind"].items():
            self.stdout.write(f"  {kind} : {count}")
        self.stdout.write(f"Messages déjà envoyés, pour la liste de travail : {figures['messages']}")
        self.stdout.write(f"Connexions et autres événements, rien à annuler : {figures['events']}")
        self.stdout.write(f"Déjà annulées avant : {figures['already_undone']}")
        if dry_run:
            self.stdout.write(f"Rien n'a été changé. `incident cancel {incident.pk}` annule pour de bon.")

    def do_report(self, *, incident, fmt, output, **options) -> None:
        if fmt == "pdf" and not output:
            raise CommandError("Un PDF s'écrit dans un fichier : donnez --output rapport.pdf.")
        incident = self.incident(incident)
        if output:
            path = Path(output)
            if not path.parent.is_dir():
                raise CommandError(f"Le dossier de « {output} » n'existe pas.")
        content = services.report_make(incident, fmt=fmt, actor=self.actor)
        if output:
            path.write_bytes(content)
            self.stdout.write(f"Rapport écrit dans {output} ({len(content)} octets).")
        else:
            self.stdout.write(content.decode())

    def do_notify(self, *, incident, rate, **options) -> None:
        if rate is not None and rate <= 0:
            raise CommandError("--rate : donnez un nombre de personnes par seconde supérieur à 0.")
        incident = self.incident(incident)
        self.stdout.write("Avis individuels aux personnes concernées :")
        figures = services.people_notify(incident, actor=self.actor, rate=rate, progress=self.progress(" personnes"))
        self.stdout.write(f"Personnes prévenues : {figures['notified']} ({figures['messages']} e-mails et SMS)")
        self.stdout.write(f"Sans coordonnée validée, pour la liste de travail (courrier) : {figures['no_contact']}")
        self.stdout.write(f"Déjà prévenues lors d'un passage précédent : {figures['already']}")

    def progress(self, unit: str):
        """A callback printing `done / total <unit>` at most once a second, and at the end."""
        shown_at = [0.0]

        def show(done: int, total: int) -> None:
            now = time.monotonic()
            if now - shown_at[0] >= 1 or done >= total:
                shown_at[0] = now
                self.stdout.write(f"  {done} / {total}{unit}")

        return show

    def do_status(self, **options) -> None:
        closure = services.current_closure()
        if closure is None:
            self.stdout.write("Le service est ouvert.")
        else:
            self.stdout.write(f"Le service est fermé depuis le {shown(closure.closed_at)} : {closure.reason}")
