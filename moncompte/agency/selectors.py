"""What the Caf has in a case, as far as the access policy lets this person see it: payments, letters (and their
PDF), the Caf's requests awaiting an answer.

Each selector asks `households.policy` first, with the signed-in person and a case read through `policy.case_get`,
and only then the case system (`partners.connectors`). It answers a `Result`, never an exception:
- `ok`: the data, with its source and date (« Données transmises par la Caf le … »);
- `not_allowed`: the person may not see it; `reasons` are `policy.limits`, for the page to show;
- `unavailable`: the case system did not answer usefully (down, slow, circuit open, malformed answer);
- `not_found`: no such letter or request in this case (an id of another case, or made up).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from moncompte.agency.models import AgencyAnswer
from moncompte.households import policy
from moncompte.households.models import Case
from moncompte.households.policy import Capability
from moncompte.lib import dates
from moncompte.partners import connectors
from moncompte.partners.connectors import AgencyRequest, Answer, LetterNotFound, PartnerUnavailable

#: « Mes paiements » shows the payments of the last 24 months.
PAYMENT_YEARS = 2

OK, NOT_ALLOWED, UNAVAILABLE, NOT_FOUND = "ok", "not_allowed", "unavailable", "not_found"


@dataclass(frozen=True)
class Result:
    status: str
    data: Any = None
    source: str = ""  # the partner's label, « la Caf »
    fetched_at: datetime | None = None
    from_cache: bool = False
    reasons: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def not_allowed(self) -> bool:
        return self.status == NOT_ALLOWED

    @property
    def unavailable(self) -> bool:
        return self.status == UNAVAILABLE

    @property
    def not_found(self) -> bool:
        return self.status == NOT_FOUND


@dataclass(frozen=True)
class RequestItem:
    """A request of the Caf, and the answer sent from here if there is one (then it is not offered again)."""

    request: AgencyRequest
    answer: AgencyAnswer | None

    @property
    def answered(self) -> bool:
        return self.answer is not None


def _refused(who, case: Case) -> Result:
    return Result(NOT_ALLOWED, reasons=tuple(policy.limits(who, case)))


def _shown(answer: Answer, data: Any) -> Result:
    return Result(OK, data, answer.source, answer.fetched_at, answer.from_cache)


def _unavailable(error: Exception) -> Result:
    source = error.partner.label if isinstance(error, PartnerUnavailable) else connectors.partner("case_system").label
    return Result(UNAVAILABLE, source=source)


def _ask(who, case: Case, capability: Capability, question):
    """The policy first, then the case system: a Result, or the connector's Answer for the caller to shape."""
    if not policy.can(who, capability, case):
        return _refused(who, case)
    try:
        return question()
    except (PartnerUnavailable, ValueError) as error:  # ValueError: a case number the case system cannot know
        return _unavailable(error)


def payments_since(today: date | None = None) -> date:
    return dates.years_before(today or timezone.localdate(), PAYMENT_YEARS)


def payments_for(who, case: Case, *, today: date | None = None) -> Result:
    """The payments of the last 24 months, newest first (`data`: a tuple of connectors.Payment)."""
    answer = _ask(
        who, case, Capability.VIEW_CASE, lambda: connectors.payments(case.case_number, payments_since(today))
    )
    return answer if isinstance(answer, Result) else _shown(answer, answer.data)


def letters_for(who, case: Case) -> Result:
    """The letters the Caf sent to the case, newest first (`data`: a tuple of connectors.Letter)."""
    answer = _ask(who, case, Capability.VIEW_CASE, lambda: connectors.letters(case.case_number))
    return answer if isinstance(answer, Result) else _shown(answer, answer.data)


def letter_pdf_for(who, case: Case, letter_id: str) -> Result:
    """One letter's PDF (`data`: bytes), `not_found` for an id the case system does not give for this case."""

    def fetch() -> Result:
        try:
            content = connectors.letter_pdf(case.case_number, letter_id)
        except LetterNotFound:
            return Result(NOT_FOUND)
        partner = connectors.partner("case_system")
        return Result(OK, content, partner.label, timezone.now())

    return _ask(who, case, Capability.VIEW_CASE, fetch)


def _answers_of(case: Case) -> dict[str, AgencyAnswer]:
    standing = AgencyAnswer.objects.filter(case=case, withdrawn_at__isnull=True).select_related("author")
    return {answer.request_id: answer for answer in standing}


def requests_for(who, case: Case) -> Result:
    """The Caf's requests awaiting an answer from the household, newest first (`data`: a tuple of RequestItem; those
    answered here carry their answer)."""
    answer = _ask(who, case, Capability.ANSWER_AGENCY, lambda: connectors.agency_requests(case.case_number))
    if isinstance(answer, Result):
        return answer
    answered = _answers_of(case)
    return _shown(answer, tuple(RequestItem(item, answered.get(item.id)) for item in answer.data))


def request_for(who, case: Case, request_id: str) -> Result:
    """One request of the case (`data`: a RequestItem), `not_found` for an id the case system does not list for this
    case (another case's, a made-up one, or a request the Caf has closed)."""
    result = requests_for(who, case)
    if not result.ok:
        return result
    item = next((item for item in result.data if item.request.id == request_id), None)
    if item is None:
        return Result(NOT_FOUND)
    return Result(OK, item, result.source, result.fetched_at, result.from_cache)
