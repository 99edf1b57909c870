"""Delegation: the holder lets the partner act for the household (DESIGN §3). Granting and revoking are journaled
and undoable; holder and partner are told each time, on their validated contacts.

Permissions: these functions check the household's facts (who is holder, who is partner), not who is asking. The
views check `policy.can(who, Capability.MANAGE_DELEGATION, case)` and a recent password entry before calling them.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from moncompte.households.models import Case, Delegation, DelegationOrigin, Membership, Role
from moncompte.households.selectors import delegation_active, membership_in_role
from moncompte.identity.models import Person
from moncompte.journal import services as journal
from moncompte.journal.models import Entry
from moncompte.messaging.services import person_notify

NOTICE_GRANTED = "households/notices/delegation_granted"
NOTICE_REVOKED = "households/notices/delegation_revoked"
NOTICE_FROM_PIN = "households/notices/delegation_from_pin"


class DelegationError(Exception):
    """A delegation change that the household's situation does not allow; `message` is for the person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _lock(case: Case) -> Case:
    """Serialise the changes of one case's delegation (two tabs, two devices): the case row is the lock."""
    return Case.objects.select_for_update().get(pk=case.pk)


def _role_of(case: Case, person: Person) -> str | None:
    return Membership.objects.filter(case=case, person=person).values_list("role", flat=True).first()


def _notify_both(*, template: str, case: Case, holder: Person | None, partner: Person, **context) -> None:
    when = timezone.localtime()
    for recipient, as_holder in ((holder, True), (partner, False)):
        if recipient is not None:
            person_notify(
                person_id=recipient.pk,
                template=template,
                context={
                    "person": recipient,
                    "as_holder": as_holder,
                    "case_number": case.case_number,
                    "when": when,
                    **context,
                },
            )


@transaction.atomic
def delegation_grant(
    *, case: Case, holder: Person, partner: Person, origin: str = DelegationOrigin.HOLDER
) -> Delegation:
    """The holder grants the delegation to the partner of the case (raises DelegationError otherwise)."""
    case = _lock(case)
    if _role_of(case, holder) != Role.HOLDER:
        raise DelegationError(_("Seul l'allocataire du dossier peut accorder la délégation."))
    if _role_of(case, partner) != Role.PARTNER:
        raise DelegationError(
            _("Cette personne n'est pas le conjoint du dossier : elle ne peut pas recevoir la délégation.")
        )
    if delegation_active(case) is not None:
        raise DelegationError(_("Votre conjoint a déjà la délégation sur ce dossier."))
    delegation = Delegation.objects.create(case=case, partner=partner, origin=origin, granted_by=holder)
    journal.record(
        "delegation.granted",
        person_id=holder.pk,
        case_number=case.case_number,
        after=_state(delegation),
    )
    _notify_both(template=NOTICE_GRANTED, case=case, holder=holder, partner=partner)
    return delegation


@transaction.atomic
def delegation_revoke(*, case: Case, holder: Person) -> Delegation:
    """The holder takes the delegation back (raises DelegationError when there is none, or when not the holder)."""
    case = _lock(case)
    if _role_of(case, holder) != Role.HOLDER:
        raise DelegationError(_("Seul l'allocataire du dossier peut retirer la délégation."))
    delegation = delegation_active(case)
    if delegation is None:
        raise DelegationError(_("Aucune délégation n'est en cours sur ce dossier."))
    before = _state(delegation)
    delegation.revoked_at = timezone.now()
    delegation.revoked_by = holder
    delegation.save(update_fields=["revoked_at", "revoked_by"])
    journal.record(
        "delegation.revoked",
        person_id=holder.pk,
        case_number=case.case_number,
        before=before,
        after=_state(delegation),
    )
    _notify_both(template=NOTICE_REVOKED, case=case, holder=holder, partner=delegation.partner)
    return delegation


@transaction.atomic
def delegation_grant_from_case_pin(*, case: Case, partner: Person) -> Delegation | None:
    """A partner who signs in for the first time with the case PIN already acted for the household through that
    shared PIN: they keep that access as a delegation, which the holder is told about and may revoke.

    Nothing happens for anyone but the case's partner, nor when the case already has a delegation or had one: a
    holder who once revoked it has decided, and the PIN they shared earlier does not override that."""
    case = _lock(case)
    if _role_of(case, partner) != Role.PARTNER or Delegation.objects.filter(case=case).exists():
        return None
    holder_membership = membership_in_role(case, Role.HOLDER)
    holder = holder_membership.person if holder_membership else None
    delegation = Delegation.objects.create(case=case, partner=partner, origin=DelegationOrigin.CASE_PIN)
    journal.record("delegation.granted", person_id=partner.pk, case_number=case.case_number, after=_state(delegation))
    if holder is not None:
        person_notify(
            person_id=holder.pk,
            template=NOTICE_FROM_PIN,
            context={"person": holder, "case_number": case.case_number, "when": timezone.localtime()},
        )
    # The partner usually has no validated contact yet (first login): their own page shows the delegation.
    person_notify(
        person_id=partner.pk,
        template=NOTICE_GRANTED,
        context={
            "person": partner,
            "as_holder": False,
            "from_pin": True,
            "case_number": case.case_number,
            "when": timezone.localtime(),
        },
    )
    return delegation


def _state(delegation: Delegation) -> dict:
    """What the journal keeps of a delegation: ids and dates only."""
    return {
        "delegation": delegation.pk,
        "partner": delegation.partner_id,
        "holder": delegation.granted_by_id,
        "origin": delegation.origin,
        "revoked_at": delegation.revoked_at.isoformat() if delegation.revoked_at else None,
    }


# --- Undo ------------------------------------------------------------------------------------------------------------
# Undo handlers restore the state quietly: whoever undoes (an agent, the incident tooling) tells the people concerned.


@journal.register_undo_many("delegation.granted")
def _undo_delegations_granted(entries: list[Entry]) -> None:
    """Undoing a grant ends the delegation, if it is still running (a later revocation already ended it). Each grant
    names its own delegation, so ending them together is ending them one by one."""
    Delegation.objects.filter(
        pk__in=[entry.after.get("delegation") for entry in entries], revoked_at__isnull=True
    ).update(revoked_at=timezone.now())


@journal.register_undo("delegation.revoked")
def _undo_delegation_revoked(entry: Entry) -> None:
    """Undoing a revocation gives the delegation back, if the partner is still the partner of the case and no other
    delegation started since."""
    delegation = Delegation.objects.select_related("case").filter(pk=entry.before.get("delegation")).first()
    if delegation is None:
        raise journal.UndoError(_("Cette délégation n'existe plus."))
    case = _lock(delegation.case)
    if delegation.revoked_at is None or delegation_active(case) is not None:
        return
    if Delegation.objects.filter(case=case, pk__gt=delegation.pk, revoked_by__isnull=False).exists():
        # The holder granted and revoked a delegation again since (an undone revocation or grant leaves no
        # `revoked_by`): their latest decision stands.
        raise journal.UndoError(
            _("Une délégation plus récente a été accordée puis retirée depuis : celle-ci ne peut pas être rendue.")
        )
    if _role_of(case, delegation.partner) != Role.PARTNER:
        raise journal.UndoError(
            _("Cette personne n'est plus le conjoint du dossier : la délégation ne peut pas être rendue.")
        )
    delegation.revoked_at = None
    delegation.revoked_by = None
    delegation.save(update_fields=["revoked_at", "revoked_by"])
