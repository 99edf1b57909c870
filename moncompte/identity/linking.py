"""Linking a NIR to a person who had only a provisional identifier (issue 11, item 6): an agent in the admin, or the
legacy import when a member it knew without a NIR comes with one.

One rule, whoever links: in one transaction the NIR is set, the provisional identifier retired (kept in
`Person.retired_provisional_id`: it never signs in again and is never issued again), `person.nir_linked` journaled,
and every app that keeps something by the login id follows. Identity knows no app above it: the accounts app
registers (`on_nir_linked`) what renames the account's login id to the NIR and tells the person, on their validated
contacts, that they sign in with their NIR from now on. The undo gives the provisional identifier back
(`on_nir_unlinked`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moncompte.identity.models import Person
from moncompte.identity.nir import Nir, parse_nir
from moncompte.journal import services as journal
from moncompte.journal.models import Entry

KIND = "person.nir_linked"

#: Who linked: the value of `by`, kept in the journal entry.
BY_AGENT = "agent"
BY_LEGACY_IMPORT = "legacy_import"
ORIGINS = (BY_AGENT, BY_LEGACY_IMPORT)

#: `handler(person, retired_provisional_id)`, run inside the link's transaction once the person has the NIR.
LinkHandler = Callable[[Person, str | None], None]
_on_linked: list[LinkHandler] = []
_on_unlinked: list[LinkHandler] = []


class LinkRefused(ValueError):
    """The link cannot be made; nothing changed. `message` is French and never shows the NIR."""

    def __init__(self, message: Any, code: str) -> None:
        super().__init__(message, code)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return str(self.message)


MSG_TAKEN = _(
    "Ce numéro de Sécurité sociale est déjà celui d'une autre personne connue de la Caf : rien n'a été modifié. "
    "Vérifiez le numéro ; s'il est juste, les deux fiches décrivent peut-être la même personne et doivent être "
    "rapprochées par l'équipe du répertoire."
)
MSG_HAS_ANOTHER_NIR = _(
    "Cette personne a déjà un autre numéro de Sécurité sociale : rien n'a été modifié. Un numéro de Sécurité "
    "sociale ne se remplace pas par un rattachement."
)


def on_nir_linked(handler: LinkHandler) -> LinkHandler:
    """Register what must follow a link (an app above identity: the accounts app renames the login id)."""
    if handler not in _on_linked:
        _on_linked.append(handler)
    return handler


def on_nir_unlinked(handler: LinkHandler) -> LinkHandler:
    """Register what must follow the undo of a link (the person signs in with the provisional identifier again)."""
    if handler not in _on_unlinked:
        _on_unlinked.append(handler)
    return handler


@transaction.atomic
def link_nir(
    person: Person, nir: str | Nir, *, by: str, agent_account_id: int | None = None, reason: str = ""
) -> Person:
    """Give `person` their NIR (13 characters, or 15 with the key, checked by `parse_nir`) and retire their provisional
    identifier. Refuses (LinkRefused, nothing changed) a NIR another person holds, or a person who has another NIR.
    Linking the NIR a person already has changes nothing and tells nobody again.

    `by` says who links (BY_AGENT, BY_LEGACY_IMPORT); an agent's account id and reason go to the journal. The caller
    checks the agent's permission. `person` is updated in place and returned."""
    if by not in ORIGINS:
        raise ValueError(f"link_nir: by={by!r}, expected one of {ORIGINS}")
    value = nir.value if isinstance(nir, Nir) else parse_nir(nir).value
    current = Person.objects.select_for_update().only("nir", "provisional_id").get(pk=person.pk)
    if current.nir == value:
        return person
    if current.nir:
        raise LinkRefused(MSG_HAS_ANOTHER_NIR, "has_another_nir")
    if Person.objects.filter(nir=value).exists():
        raise LinkRefused(MSG_TAKEN, "taken")
    retired = current.provisional_id
    now = timezone.now()
    try:
        Person.objects.filter(pk=person.pk).update(
            nir=value, provisional_id=None, retired_provisional_id=retired, updated_at=now
        )
    except IntegrityError:  # taken in the meantime; leaving this atomic block rolls the link back
        raise LinkRefused(MSG_TAKEN, "taken") from None
    person.nir, person.provisional_id, person.retired_provisional_id, person.updated_at = value, None, retired, now
    after: dict[str, Any] = {"by": by}
    if reason:
        after["reason"] = reason
    journal.record(
        KIND,
        person_id=person.pk,
        # The provisional identifier, for the undo; never the NIR (the person's row holds it).
        before={"provisional_id": retired},
        after=after,
        actor_account_id=agent_account_id,
    )
    for handler in _on_linked:
        handler(person, retired)
    return person


@journal.register_undo(KIND)
def _undo_nir_linked(entry: Entry) -> None:
    """The person signs in with the provisional identifier again, and has no NIR. Only while the link stands as it
    was made (the retired identifier is still the one this entry retired)."""
    provisional = (entry.before or {}).get("provisional_id")
    person = Person.objects.select_for_update().filter(pk=entry.person_id).first()
    if person is None or not provisional or person.retired_provisional_id != provisional:
        raise journal.UndoError("Ce rattachement a changé depuis : il ne peut pas être annulé automatiquement.")
    person.nir, person.provisional_id, person.retired_provisional_id = None, provisional, None
    person.save(update_fields=["nir", "provisional_id", "retired_provisional_id", "updated_at"])
    for handler in _on_unlinked:
        handler(person, provisional)
