"""What an agent does for a person at the desk or on the phone (issue 13, item 3), and what they may see of them.

An agent opens an exchange with one person (`exchange_open`): they say how the caller or visitor was identified, and
the journal records the look (`desk.consulted`), which the person reads in their security history as « Un agent de
la Caf a consulté votre dossier ». What the page then shows of the case is asked of the access policy *for that
person*: an agent tells them what they could read in their own space, no more. The actions (a reset code to a
validated contact, an invitation sent again, an error report) are the domain's services, run with the agent as the
actor in the desk channel. An agent never sees a password, a PIN or a code: none of these is returned or shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from moncompte.accounts import services, throttling
from moncompte.accounts.models import Account
from moncompte.households import invitations
from moncompte.households.models import Invitation, Membership, SignupRequest
from moncompte.households.selectors import memberships_for_person
from moncompte.identity import services as identity_services
from moncompte.identity.models import CorrectionRequest, Person
from moncompte.identity.provisional import parse_login_identifier
from moncompte.identity.selectors import person_get_by_login_id
from moncompte.journal import reads
from moncompte.journal import services as journal
from moncompte.lib import counters
from moncompte.verification import services as verification
from moncompte.verification.errors import CodeThrottled
from moncompte.verification.models import Lane, Purpose

#: How the agent made sure who they speak to (recorded in the journal with the look).
IDENTIFIED_BY = {
    "desk_id": "Au guichet, sur présentation d'une pièce d'identité",
    "phone_questions": "Au téléphone, par des questions sur le dossier (date de naissance, adresse, derniers "
    "paiements)",
    "phone_voice_server": "Au téléphone, après identification au serveur vocal (numéro allocataire et mot de passe "
    "du dossier)",
    "letter": "Par courrier signé, avec la copie d'une pièce d'identité",
}


class AssistanceError(Exception):
    """What the agent is told when an action cannot be done, in French."""


# --- Finding the person ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A search's answer: the people it designates (a case's members, or the one person of a NIR)."""

    memberships: list[Membership] = field(default_factory=list)
    person: Person | None = None

    @property
    def people(self) -> list[Person]:
        if self.memberships:
            return [m.person for m in self.memberships]
        return [self.person] if self.person is not None else []


def _search_admit(agent_id: int | None) -> None:
    """DESK_SEARCHES_PER_HOUR searches per agent and clock hour, shared by every process: enough for a day at the
    counter, not for walking the case numbers. The one that reaches the ceiling is an alert."""
    if agent_id is None:
        return
    key = counters.window_key(f"desk:search:{agent_id}", 3600)
    count = counters.incr(key, timeout=3600)
    if count == settings.DESK_SEARCHES_PER_HOUR + 1:
        journal.record("desk.search_ceiling", after={"agent": agent_id, "limit": settings.DESK_SEARCHES_PER_HOUR})
    if count > settings.DESK_SEARCHES_PER_HOUR:
        raise AssistanceError(
            "Trop de recherches en une heure depuis votre compte : réessayez à l'heure suivante. Si ce n'est pas "
            "vous, prévenez l'équipe sécurité."
        )


def search(query: str, *, agent_id: int | None = None) -> Found:
    """A case number (7 digits) gives the case's members; a NIR (13 or 15 characters) or a provisional identifier,
    that person. Raises AssistanceError for something that is neither, or past the agent's hourly ceiling."""
    _search_admit(agent_id)
    text = "".join(ch for ch in (query or "") if not ch.isspace() and ch != ".")[:40]
    if text.isdigit() and len(text) == 7:
        memberships = list(
            Membership.objects.filter(case__case_number=text)
            .select_related("person", "case")
            .order_by("role", "person__birth_date")
        )
        found = Found(memberships=memberships)
    else:
        try:
            identifier = parse_login_identifier(text)
        except ValueError as error:
            detail = getattr(error, "message", "")
            raise AssistanceError(
                "Saisissez un numéro allocataire (7 chiffres) ou un numéro de Sécurité sociale (13 ou 15 caractères)."
                + (f" {detail}" if detail else "")
            ) from None
        found = Found(person=person_get_by_login_id(identifier))
    for person in found.people:
        reads.seen(person_id=person.pk)
    return found


# --- The exchange --------------------------------------------------------------------------------------------------


@transaction.atomic
def exchange_open(*, person: Person, identified_by: str) -> None:
    """The agent acting now (journal.context) receives this person: the look is journaled about them."""
    if identified_by not in IDENTIFIED_BY:
        raise AssistanceError("Indiquez comment la personne a été identifiée.")
    cases = list(memberships_for_person(person).values_list("case__case_number", flat=True))
    journal.record(
        "desk.consulted",
        person_id=person.pk,
        case_number=cases[0] if len(cases) == 1 else "",
        after={"identified_by": identified_by, "cases": cases},
    )


@dataclass(frozen=True)
class HelpState:
    """What an agent needs to help someone switch to their personal login (migration, contacts, a login slowed down,
    a signup request awaiting the holder, an invitation on its way)."""

    account: Account | None
    password_set: bool
    contact_validated: bool
    onboarded: bool
    email: str
    mobile: str
    login_stepped_up: bool
    pending_requests: list[SignupRequest]
    invitation: Invitation | None
    may_reset: bool

    @property
    def migrated(self) -> bool:
        return self.password_set and self.contact_validated and self.onboarded


def help_state(person: Person) -> HelpState:
    account = Account.objects.filter(person=person).first()
    email = mobile = ""
    if account is not None:
        if account.email_verified_at:
            email = verification.mask_destination(account.email)
        if account.mobile_verified_at:
            mobile = verification.mask_destination(account.mobile)
    return HelpState(
        account=account,
        password_set=account is not None and account.has_usable_password(),
        contact_validated=account is not None and account.has_validated_contact,
        onboarded=account is not None and account.onboarded_at is not None,
        email=email,
        mobile=mobile,
        login_stepped_up=account is not None and throttling.step_up_required(account.login_id),
        pending_requests=list(
            SignupRequest.objects.filter(person=person, status=SignupRequest.Status.PENDING).select_related("case")
        ),
        invitation=invitation_to_resend(person) if account is None else None,
        may_reset=services.password_reset_allowed(person),
    )


def reset_mediums(person: Person) -> dict[str, str]:
    """Where an agent may send a reset code: the contacts the person validated (masked), never one on file only."""
    account = Account.objects.filter(person=person).first()
    if account is None or not account.is_active or not services.password_reset_allowed(person):
        return {}
    return {medium: verification.mask_destination(to) for medium, to in services.validated_contacts(person.pk).items()}


def reset_code_send(*, person: Person, medium: str) -> str:
    """Send the person a reset code to their validated contact of that medium; the agent sees only where it went
    (masked). The person types it on « J'ai reçu un code d'un conseiller » with their NIR and a new password.

    Past a quota nothing leaves, yet the previous code is void all the same (`code_issue`): the refusal is raised
    once that is committed."""
    destination = services.validated_contacts(person.pk).get(medium) if reset_mediums(person) else None
    if not destination:
        raise AssistanceError("Cette personne n'a pas de coordonnée validée de ce type : aucun code n'est parti.")
    masked = verification.mask_destination(destination)
    refusal = None
    with transaction.atomic():
        try:
            verification.code_issue(
                person=person, purpose=Purpose.DESK_RESET, medium=medium, destination=destination, lane=Lane.DESK
            )
        except CodeThrottled as error:
            refusal = error
            # Nothing left, yet the person's previous code is void (code_issue): the journal says so.
            journal.record("desk.reset_code_refused", person_id=person.pk, after={"medium": medium})
        else:
            journal.record(
                "desk.reset_code_sent", person_id=person.pk, after={"medium": medium, "destination": masked}
            )
    if refusal is not None:
        raise AssistanceError(f"Aucun code n'est parti : {refusal.message}")
    return masked


def invitation_to_resend(person: Person) -> Invitation | None:
    """The member's newest invitation, if it was neither used nor replaced by a separation (valid or expired)."""
    invitation = Invitation.objects.filter(person=person).select_related("case").order_by("-created_at").first()
    if invitation is None:
        return None
    state = invitations.invitation_state(invitation)
    return invitation if state in (invitations.InvitationState.VALID, invitations.InvitationState.EXPIRED) else None


def invitation_resend(*, person: Person, link) -> Invitation:
    """Send the member's invitation again, to the same destination: a new link or code, the old one revoked. The
    holder's hourly limits apply as if they sent it."""
    if Account.objects.filter(person=person).exists():
        raise AssistanceError("Cette personne a déjà ouvert son compte : il n'y a pas d'invitation à renvoyer.")
    invitation = invitation_to_resend(person)
    if invitation is None:
        raise AssistanceError("Aucune invitation à renvoyer pour cette personne.")
    try:
        with transaction.atomic():
            sent = invitations.invitation_send(
                case=invitation.case,
                person=person,
                created_by=invitation.created_by,
                medium=invitation.medium,
                destination=invitation.destination,
                link=link,
                origin=invitation.origin,
            )
            journal.record(
                "desk.invitation_resent",
                person_id=person.pk,
                case_number=invitation.case.case_number,
                after={"invitation": sent.pk, "medium": sent.medium},
            )
    except invitations.InvitationThrottled as error:
        raise AssistanceError(error.message) from None
    return sent


@transaction.atomic
def error_report_record(*, person: Person, topic: str, message: str) -> CorrectionRequest:
    """« Signaler une erreur » on the person's behalf: the same request they would file themselves, the agent as
    its actor."""
    if topic not in CorrectionRequest.Topic.values:
        raise AssistanceError("Choisissez le sujet de l'erreur.")
    message = (message or "").strip()
    if not message:
        raise AssistanceError("Décrivez l'erreur signalée par la personne.")
    return identity_services.correction_request_file(person=person, topic=topic, message=message[:2000])
