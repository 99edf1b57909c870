"""The kinds of action the journal records, each declared once by the app that records it (its `kinds.py`).

A kind says how a person reads it (a French label, or a function of the entry when the wording depends on what
happened), whether it is shown in their "Historique de connexion et de sécurité", whether "Ce n'était pas moi" may
be said of it there, whether it is an alert for the security team, whether it is a mere event (nothing changed, so
nothing to cancel), and whether an undo handler exists for it
(`journal.services.register_undo`; tests check both sides agree). `journal.services.record` refuses a kind that was
not declared, so no entry reaches a page or a data download without its label.

The undo of an action is recorded as "<kind>.undone" and reads "Annulation : <label>"; it is shown where its kind is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.functional import Promise
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from moncompte.journal.models import Entry

UNDONE = ".undone"
#: The kinds that set a person's password (declared by accounts). The journal indexes them apart, so that "whose
#: password was set before this instant" (incidents.affected) reads a few rows per person, whatever the journal's size.
PASSWORD_SET = ("password.created", "password.changed", "password.reset")


@dataclass(frozen=True)
class Kind:
    name: str
    label: str | Promise
    #: Shown in the person's security history (and so open to "Ce n'était pas moi", unless `disownable` is False).
    security: bool = False
    disownable: bool = True
    #: Listed under "Alertes de sécurité" in the admin.
    alert: bool = False
    #: An undo handler is registered for it.
    reversible: bool = False
    #: The label of one entry when it depends on the entry's data; None: `label`.
    describe: Callable[[Entry], str | None] | None = None
    #: Nothing changed: a sign-in, a code sent or a failed try. Cancelling a time window passes over it; an action
    #: that is neither reversible nor an event goes to the agents' worklist instead (incidents.cancellation).
    event: bool = False


class UnknownKind(ValueError):
    """A kind no app declared: a programming error, caught by the tests."""


_kinds: dict[str, Kind] = {}


def declare(
    name: str,
    label: str | Promise,
    *,
    security: bool = False,
    disownable: bool = True,
    alert: bool = False,
    reversible: bool = False,
    describe: Callable[[Entry], str | None] | None = None,
    event: bool = False,
) -> Kind:
    if name.endswith(UNDONE):
        raise ValueError(f"{name!r}: undo entries are derived from their kind, not declared")
    if event and reversible:
        raise ValueError(f"{name!r}: an event changes nothing, so there is nothing to undo")
    kind = Kind(name, label, security, disownable, alert, reversible, describe, event)
    known = _kinds.get(name)
    if known is not None and (known.label, known.security, known.alert) != (label, security, alert):
        raise ValueError(f"journal kind {name!r} is declared twice")
    _kinds[name] = kind
    return kind


def get(name: str) -> Kind:
    """The kind of an entry (of the undone action, for an undo entry); raises UnknownKind."""
    try:
        return _kinds[name.removesuffix(UNDONE)]
    except KeyError:
        raise UnknownKind(f"journal kind {name!r} is not declared in any app's kinds.py") from None


def declared() -> dict[str, Kind]:
    return dict(_kinds)


def security_names() -> list[str]:
    """Every kind shown in the security history, and the undo of each."""
    names = [name for name, kind in _kinds.items() if kind.security]
    return [*names, *(name + UNDONE for name in names)]


def event_names() -> list[str]:
    return [name for name, kind in _kinds.items() if kind.event]


def alert_names() -> list[str]:
    return [name for name, kind in _kinds.items() if kind.alert]


def is_disownable(entry: Entry) -> bool:
    """Whether "Ce n'était pas moi" fits the entry's kind: not an undo, not a kind declared otherwise."""
    kind = _kinds.get(entry.kind)
    return kind is not None and kind.disownable


def label(entry: Entry) -> str:
    """How the person reads the entry, in the active language."""
    if entry.kind.endswith(UNDONE):
        # An undo entry keeps the undone action's states swapped (its `before` is the action's `after`).
        undone = type(entry)(kind=entry.kind.removesuffix(UNDONE), before=entry.after, after=entry.before)
        return _("Annulation : %(action)s") % {"action": label(undone)}
    kind = _kinds.get(entry.kind)
    if kind is None:
        return entry.kind  # an entry of a kind that no longer exists: its name is all we know
    described = kind.describe(entry) if kind.describe is not None else None
    return str(described or kind.label)
