"""What a kind of procedure is: its steps (each a form, and the supporting documents it asks for), the partner data
that pre-fills some fields, and its title. Kinds register themselves here (housing_aid.py, activity_bonus.py); the
services and the pages know no kind by name.

Who may start, prepare and submit a request is the access policy's (households.policy: PREPARE_REQUEST,
START_REQUEST), not the kind's: both kinds are household requests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django import forms
from django.utils.functional import Promise


@dataclass(frozen=True)
class Prefilled:
    """A value a partner sent for a field: shown as « Données transmises par <source> le <at> »."""

    value: Any
    source: str
    at: datetime


@dataclass
class Prefill:
    """What a step's partners sent (by field), and the partners that did not answer (their labels)."""

    values: dict[str, Prefilled] = field(default_factory=dict)
    unavailable: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DocumentSlot:
    """A supporting document a step asks for."""

    name: str
    label: str | Promise
    help_text: str | Promise = ""
    required: bool = True


@dataclass(frozen=True)
class Step:
    name: str  # in the URL: "logement"
    title: str | Promise
    form: type[forms.Form] | None = None  # None: the summary, the last step
    documents: tuple[DocumentSlot, ...] = ()
    prefill: Callable[[StepContext], Prefill] | None = None  # partner data, shown with its source
    initial: Callable[[StepContext], dict[str, Any]] | None = None  # what the case already says


@dataclass(frozen=True)
class StepContext:
    """What a step's form and pre-fill know: whose request it is, for which case, and what earlier steps said.

    `person` is the draft's author: « vous » in the forms is them, and their partner data pre-fills the fields.
    `viewer` is who is on the page (the holder sending a request the partner prepared): the labels then name the
    author instead of saying « vous »."""

    person: Any  # identity.models.Person
    case: Any  # households.models.Case or None (a new applicant's first request)
    data: dict[str, dict[str, Any]]
    sees_household: bool  # the author may see the other members (policy VIEW_CASE)
    viewer: Any = None

    @property
    def for_someone_else(self) -> bool:
        return self.viewer is not None and self.viewer.pk != self.person.pk


@dataclass(frozen=True)
class ProcedureKind:
    slug: str  # in URLs and in the Draft: "aide-au-logement"
    code: str  # in references: "AL"
    title: str | Promise  # « Demande d'aide au logement »
    summary: str | Promise  # one sentence on the list of procedures
    steps: tuple[Step, ...]
    describe: Callable[[dict[str, dict[str, Any]]], list[tuple[str, str]]] = lambda data: []

    def step(self, name: str) -> Step | None:
        return next((s for s in self.steps if s.name == name), None)

    def index(self, name: str) -> int:
        return [s.name for s in self.steps].index(name)

    @property
    def form_steps(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.form is not None)


_KINDS: dict[str, ProcedureKind] = {}


def register(kind: ProcedureKind) -> ProcedureKind:
    assert kind.slug not in _KINDS, kind.slug
    assert kind.steps and kind.steps[-1].form is None, "the last step is the summary"
    _KINDS[kind.slug] = kind
    return kind


def get(slug: str) -> ProcedureKind | None:
    return _KINDS.get(slug)


def kinds() -> list[ProcedureKind]:
    return list(_KINDS.values())
