"""Separation: the holder or the partner declares it, an agent processes it in the admin. Processing splits the
household: the person who leaves becomes holder of a new case, the children follow the declared choice, the
delegation ends. Declaring and processing are journaled and undoable.

Permissions: `separation_declare` checks the household's facts, not who is asking: the view checks
`policy.can(who, Capability.DECLARE_SEPARATION, case)`. `separation_process` is for agents (the admin checks it).
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from moncompte.households.models import Case, Delegation, Membership, Role, SeparationRequest, SignupRequest
from moncompte.households.selectors import children_of, delegation_active, membership_in_role
from moncompte.identity.models import Person
from moncompte.journal import services as journal
from moncompte.journal.models import Entry
from moncompte.lib import dates
from moncompte.messaging.services import person_notify

NOTICE_DECLARED = "households/notices/separation_declared"
NOTICE_PROCESSED = "households/notices/separation_processed"
NOTICE_UNDONE = "households/notices/separation_undone"
#: How far back a separation may be declared online; older ones are settled with an agent.
MAX_YEARS_BACK = 5
CASE_NUMBER_ATTEMPTS = 5

STAYING, LEAVING = SeparationRequest.ChildrenLive.STAYING, SeparationRequest.ChildrenLive.LEAVING


class SeparationError(Exception):
    """A separation that the household's situation does not allow; `message` is for the person or the agent."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def earliest_separation_date(today: datetime.date | None = None) -> datetime.date:
    return dates.years_before(today or timezone.localdate(), MAX_YEARS_BACK)


def separation_date_error(value: datetime.date) -> str | None:
    """Why a separation date cannot be accepted, in French, or None."""
    today = timezone.localdate()
    if value > today:
        return _("La date de séparation ne peut pas être dans le futur.")
    if value < earliest_separation_date(today):
        return _(
            "Cette date remonte à plus de %(years)s ans : pour une séparation aussi ancienne, contactez votre Caf."
        ) % {"years": MAX_YEARS_BACK}
    return None


def _couple(case: Case) -> tuple[Membership | None, Membership | None]:
    return membership_in_role(case, Role.HOLDER), membership_in_role(case, Role.PARTNER)


@transaction.atomic
def separation_declare(
    *,
    case: Case,
    declared_by: Person,
    leaving: Person,
    separation_date: datetime.date,
    new_address: str,
    children: dict[int | str, str],
) -> SeparationRequest:
    """Record a separation declared by the holder or the partner, for an agent to process. One pending declaration
    per case: a second one raises SeparationError. `children` says, for each child of the case, whether they live
    with the person who stays or the one who leaves."""
    case = Case.objects.select_for_update().get(pk=case.pk)  # one declaration at a time per case
    holder, partner = _couple(case)
    if holder is None or partner is None:
        raise SeparationError(
            _("Ce dossier ne compte pas de couple (allocataire et conjoint) : il n'y a pas de séparation à déclarer.")
        )
    couple = {holder.person_id, partner.person_id}
    if declared_by.pk not in couple:
        raise SeparationError(_("Seuls l'allocataire et son conjoint peuvent déclarer une séparation."))
    if leaving.pk not in couple:
        raise SeparationError(_("La personne qui part doit être l'allocataire ou son conjoint."))
    if SeparationRequest.objects.filter(case=case, status=SeparationRequest.Status.PENDING).exists():
        raise SeparationError(
            _("Une séparation a déjà été déclarée pour ce dossier : elle est en cours de traitement par la Caf.")
        )
    error = separation_date_error(separation_date)
    if error:
        raise SeparationError(error)
    new_address = new_address.strip()
    if not new_address:
        raise SeparationError(_("Indiquez la nouvelle adresse de la personne qui part."))
    declared = {str(key): value for key, value in children.items()}
    residence = {}
    for child in children_of(case):
        choice = declared.get(str(child.person_id))
        if choice not in (STAYING, LEAVING):
            raise SeparationError(_("Indiquez avec qui vivra chacun des enfants du dossier."))
        residence[str(child.person_id)] = choice
    request = SeparationRequest.objects.create(
        case=case,
        declared_by=declared_by,
        leaving=leaving,
        separation_date=separation_date,
        new_address=new_address,
        children=residence,
    )
    journal.record(
        "separation.declared",
        person_id=declared_by.pk,
        case_number=case.case_number,
        after={
            "request": request.pk,
            "leaving": leaving.pk,
            "separation_date": separation_date.isoformat(),
            "children": residence,
        },
    )
    for member in (holder.person, partner.person):
        person_notify(
            person_id=member.pk,
            template=NOTICE_DECLARED,
            context={
                "person": member,
                "declared_by_me": member.pk == declared_by.pk,
                "case_number": case.case_number,
                "separation_date": separation_date,
                "when": timezone.localtime(),
            },
        )
    return request


@journal.register_undo("separation.declared")
def _undo_separation_declared(entry: Entry) -> None:
    """Undoing a declaration cancels it while it waits; once processed, the processing must be undone first."""
    request = SeparationRequest.objects.select_for_update().filter(pk=entry.after.get("request")).first()
    if request is None or request.status == SeparationRequest.Status.CANCELLED:
        return
    if request.status == SeparationRequest.Status.PROCESSED:
        raise journal.UndoError(_("Cette séparation a déjà été traitée : annulez d'abord son traitement."))
    request.status = SeparationRequest.Status.CANCELLED
    request.save(update_fields=["status"])


# --- Processing by an agent ------------------------------------------------------------------------------------------


def _next_case_number() -> str:
    """The number after the highest 7-digit case number. The unique constraint on case_number settles a race: the
    caller retries on IntegrityError, and the retry sees the number the other transaction took."""
    highest = Case.objects.filter(case_number__regex=r"^[0-9]{7}$").aggregate(Max("case_number"))["case_number__max"]
    number = int(highest) + 1 if highest else 1_000_000
    if number > 9_999_999:
        raise SeparationError(_("Plus aucun numéro de dossier n'est disponible : contactez l'équipe technique."))
    return f"{number:07d}"


def _case_create(*, address: str) -> Case:
    for _attempt in range(CASE_NUMBER_ATTEMPTS):
        try:
            with transaction.atomic():  # a savepoint: a taken number rolls back this insert only
                return Case.objects.create(case_number=_next_case_number(), address=address, pin_hash="")
        except IntegrityError:
            continue
    raise SeparationError(_("Impossible d'attribuer un numéro de dossier pour le moment. Réessayez."))


def _place(membership: Membership) -> dict:
    return {"membership": membership.pk, "case": membership.case_id, "role": membership.role}


def _signup_requests_follow(
    case: Case, new_case: Case, *, leaving: Membership, children: list[Membership]
) -> dict[str, list[int]]:
    """Pending account requests of the people who leave the case: a child's follows them to the new case (its
    holder, the parent they now live with, decides); the leaving person's own request is cancelled (they are no
    longer a member of the case whose holder would have decided). The holder who stays no longer sees either."""
    pending = SignupRequest.objects.filter(case=case, status=SignupRequest.Status.PENDING)
    moved = list(pending.filter(person_id__in=[child.person_id for child in children]).values_list("id", flat=True))
    SignupRequest.objects.filter(pk__in=moved).update(case=new_case)
    cancelled = list(pending.filter(person_id=leaving.person_id).values_list("id", flat=True))
    SignupRequest.objects.filter(pk__in=cancelled).update(
        status=SignupRequest.Status.CANCELLED, decided_at=timezone.now()
    )
    return {"moved": moved, "cancelled": cancelled}


def _signup_requests_back(entry: Entry, case_id: int, new_case: Case) -> None:
    """Undo `_signup_requests_follow`: the requests still waiting go back to the case, the cancelled ones wait again
    unless the person opened their account or asked again meanwhile."""
    follow = entry.after.get("signup_requests") or {}
    SignupRequest.objects.filter(
        pk__in=follow.get("moved", []), case=new_case, status=SignupRequest.Status.PENDING
    ).update(case_id=case_id)
    for signup_request in SignupRequest.objects.filter(
        pk__in=follow.get("cancelled", []), status=SignupRequest.Status.CANCELLED
    ):
        pending_again = SignupRequest.objects.filter(
            case_id=signup_request.case_id, person_id=signup_request.person_id, status=SignupRequest.Status.PENDING
        ).exists()
        has_account = Person.objects.filter(pk=signup_request.person_id, account__isnull=False).exists()
        if not pending_again and not has_account:
            signup_request.status, signup_request.decided_at = SignupRequest.Status.PENDING, None
            signup_request.save(update_fields=["status", "decided_at"])


@transaction.atomic
def separation_process(*, request: SeparationRequest, agent_account_id: int | None) -> Case:
    """An agent processes a pending declaration: the person who leaves becomes holder of a new case (new number,
    the declared address, no PIN: they sign in with their own account), the children who live with them follow,
    the partner becomes holder of the existing case if the holder left, and the delegation ends."""
    request = SeparationRequest.objects.select_for_update().select_related("case", "leaving").get(pk=request.pk)
    if request.status != SeparationRequest.Status.PENDING:
        raise SeparationError(_("Cette déclaration n'est pas à traiter (elle est déjà traitée ou annulée)."))
    case = Case.objects.select_for_update().get(pk=request.case_id)
    holder, partner = _couple(case)
    if holder is None or partner is None or request.leaving_id not in (holder.person_id, partner.person_id):
        raise SeparationError(
            _("Le foyer a changé depuis la déclaration : la personne qui part n'est plus allocataire ou conjoint.")
        )
    leaving, staying = (holder, partner) if request.leaving_id == holder.person_id else (partner, holder)
    moving_children = [child for child in children_of(case) if request.children.get(str(child.person_id)) == LEAVING]
    before = [_place(m) for m in (staying, leaving, *moving_children)]

    delegation = delegation_active(case)
    if delegation is not None:
        delegation.revoked_at = timezone.now()
        delegation.save(update_fields=["revoked_at"])

    new_case = _case_create(address=request.new_address)
    # Order matters for "one holder per case": the leaving holder goes first, then the partner takes their place.
    leaving.case, leaving.role = new_case, Role.HOLDER
    leaving.save(update_fields=["case", "role"])
    if staying.role != Role.HOLDER:
        staying.role = Role.HOLDER
        staying.save(update_fields=["role"])
    for child in moving_children:
        child.case = new_case
        child.save(update_fields=["case"])
    signup_requests = _signup_requests_follow(case, new_case, leaving=leaving, children=moving_children)

    request.status = SeparationRequest.Status.PROCESSED
    request.processed_at = timezone.now()
    request.processed_by_account_id = agent_account_id
    request.new_case = new_case
    request.save(update_fields=["status", "processed_at", "processed_by_account_id", "new_case"])

    journal.record(
        "separation.processed",
        person_id=leaving.person_id,
        case_number=case.case_number,
        actor_account_id=agent_account_id,
        before={"request": request.pk, "memberships": before, "delegation": delegation.pk if delegation else None},
        after={
            "request": request.pk,
            "new_case": new_case.pk,
            "new_case_number": new_case.case_number,
            "memberships": [_place(m) for m in (staying, leaving, *moving_children)],
            "signup_requests": signup_requests,
        },
    )
    when = timezone.localtime()
    for membership, is_leaving in ((leaving, True), (staying, False)):
        person_notify(
            person_id=membership.person_id,
            template=NOTICE_PROCESSED,
            context={
                "person": membership.person,
                "leaving": is_leaving,
                "case_number": case.case_number,
                "new_case_number": new_case.case_number,
                "with_children": bool(request.children),
                "when": when,
            },
        )
    return new_case


@journal.register_undo("separation.processed")
def _undo_separation_processed(entry: Entry) -> None:
    """Put the household back as it was before the processing: memberships, roles and delegation; the new case is
    deleted if nothing else refers to it; the declaration waits for an agent again."""
    request = SeparationRequest.objects.select_for_update().filter(pk=entry.after.get("request")).first()
    new_case = Case.objects.select_for_update().filter(pk=entry.after.get("new_case")).first()
    if request is None or request.status != SeparationRequest.Status.PROCESSED or new_case is None:
        raise journal.UndoError(_("Cette séparation n'est plus dans l'état où son traitement l'a laissée."))
    moved = {place["membership"] for place in entry.after["memberships"]}
    if Membership.objects.filter(case=new_case).exclude(pk__in=moved).exists():
        raise journal.UndoError(
            _("Le nouveau dossier a reçu d'autres membres depuis : le traitement doit être corrigé à la main.")
        )
    places_now = {place["membership"]: place for place in entry.after["memberships"]}
    memberships = {m.pk: m for m in Membership.objects.select_for_update().filter(pk__in=moved)}
    for membership_id, place in places_now.items():
        membership = memberships.get(membership_id)
        if membership is None or (membership.case_id, membership.role) != (place["case"], place["role"]):
            raise journal.UndoError(
                _("Le foyer a changé depuis le traitement : la séparation doit être corrigée à la main.")
            )
    # Reverse order of the processing, for "one holder per case": the staying person gives the holder role back
    # first (the first place recorded), then the others go back.
    for place in entry.before["memberships"]:
        membership = memberships[place["membership"]]
        membership.case_id, membership.role = place["case"], place["role"]
        membership.save(update_fields=["case", "role"])
    if entry.before.get("delegation"):
        delegation = Delegation.objects.filter(pk=entry.before["delegation"]).first()
        if (
            delegation is not None
            and not Delegation.objects.filter(case_id=delegation.case_id, revoked_at__isnull=True).exists()
        ):
            delegation.revoked_at = None
            delegation.save(update_fields=["revoked_at"])
    _signup_requests_back(entry, request.case_id, new_case)
    request.status = SeparationRequest.Status.PENDING
    request.processed_at = None
    request.processed_by_account_id = None
    request.new_case = None
    request.save(update_fields=["status", "processed_at", "processed_by_account_id", "new_case"])
    if not _referenced(new_case):
        new_case.delete()


@transaction.atomic
def separation_processing_undo(*, request: SeparationRequest) -> None:
    """An agent cancels the processing of a separation (raises SeparationError when it cannot be undone): the
    household is put back as it was and the declaration waits again. Holder and partner are told, in the same
    transaction: the person who left sees the household again, and the delegation, if there was one, is back."""
    entry = (
        Entry.objects.filter(kind="separation.processed", after__request=request.pk, undone_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    if entry is None:
        raise SeparationError(_("Cette séparation n'est plus dans l'état où son traitement l'a laissée."))
    try:
        journal.undo(entry)
    except journal.UndoError as error:
        raise SeparationError(str(error)) from None
    case = Case.objects.get(pk=request.case_id)
    delegated = delegation_active(case) is not None
    when = timezone.localtime()
    for membership in _couple(case):
        if membership is not None:
            person_notify(
                person_id=membership.person_id,
                template=NOTICE_UNDONE,
                context={
                    "person": membership.person,
                    "case_number": case.case_number,
                    "delegated": delegated,
                    "when": when,
                },
            )


def _referenced(case: Case) -> bool:
    """Whether anything still points at a case (deleting it would cascade to that)."""
    return (
        case.memberships.exists()
        or case.delegations.exists()
        or case.invitations.exists()
        or case.signup_requests.exists()
        or case.separation_requests.exists()
        or SeparationRequest.objects.filter(new_case=case).exists()
    )
