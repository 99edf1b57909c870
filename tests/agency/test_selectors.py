"""What each member reads of the case system, through the policy: payments of the last 24 months, letters and their
PDF, the Caf's requests (those answered here marked, not offered again). Against the real partner simulator."""

from datetime import date

import pytest
from django.utils import timezone

from moncompte.agency import selectors, services
from moncompte.agency.selectors import NOT_ALLOWED, NOT_FOUND, OK, UNAVAILABLE
from moncompte.households import policy
from moncompte.journal import services as journal
from moncompte.journal.models import Entry
from moncompte.partners.connectors import Letter, Payment
from tests.agency.helpers import FAMILY, HOUSING, case_records, ids
from tests.factories import family


@pytest.fixture
def caf(partners, delegated, limited):
    """The case system knows both households."""
    partners.push(case_records(delegated.case.case_number))
    partners.push(case_records(limited.case.case_number))
    return partners


def test_the_holder_sees_the_payments_of_the_last_24_months_newest_first_with_their_source(caf, delegated):
    before = timezone.now()

    result = selectors.payments_for(delegated.holder, delegated.case)

    assert result.status == OK and result.source == "la Caf" and result.fetched_at >= before
    assert all(isinstance(payment, Payment) for payment in result.data)
    assert [payment.benefit for payment in result.data] == [HOUSING, FAMILY, HOUSING]  # the oldest one is not shown
    assert [str(payment.amount) for payment in result.data] == ["245.30", "1151.23", "239.10"]
    assert all(payment.paid_on >= selectors.payments_since() for payment in result.data)
    assert result.data[0].paid_on >= result.data[-1].paid_on


def test_payments_are_those_since_the_same_day_two_years_ago():
    assert selectors.payments_since(date(2026, 12, 2)) == date(2024, 12, 2)
    assert selectors.payments_since(date(2028, 2, 29)) == date(2026, 2, 28)


def test_the_delegated_partner_sees_the_case_as_the_holder_does(caf, delegated):
    assert selectors.payments_for(delegated.partner, delegated.case).status == OK
    assert selectors.letters_for(delegated.partner, delegated.case).status == OK
    assert selectors.requests_for(delegated.partner, delegated.case).status == OK


@pytest.mark.parametrize("who", ["partner without delegation", "child"])
def test_a_limited_member_is_told_why_and_the_case_system_is_not_even_asked(caf, delegated, limited, who):
    person, case = (delegated.child, delegated.case) if who == "child" else (limited.partner, limited.case)

    results = [
        selectors.payments_for(person, case),
        selectors.letters_for(person, case),
        selectors.letter_pdf_for(person, case, ids(case.case_number).letter),
        selectors.requests_for(person, case),
        selectors.request_for(person, case, ids(case.case_number).document),
    ]

    assert {result.status for result in results} == {NOT_ALLOWED}
    assert all(result.reasons == tuple(policy.limits(person, case)) and result.reasons for result in results)
    assert all(result.data is None for result in results)
    assert caf.requests().get("caf", 0) == 0


def test_someone_outside_the_household_gets_nothing(caf, delegated, limited):
    outsider = limited.holder

    assert selectors.payments_for(outsider, delegated.case).status == NOT_ALLOWED
    assert selectors.letter_pdf_for(outsider, delegated.case, ids(delegated.case.case_number).letter).data is None
    assert selectors.requests_for(outsider, delegated.case).not_allowed


@pytest.mark.parametrize("mode", ["down", "fail", "slow", "malformed"])
def test_when_the_case_system_fails_every_page_is_told_it_is_unavailable(caf, delegated, mode):
    caf.mode("caf", mode)
    holder, case = delegated.holder, delegated.case

    results = [
        selectors.payments_for(holder, case),
        selectors.letters_for(holder, case),
        selectors.requests_for(holder, case),
        selectors.letter_pdf_for(holder, case, ids(case.case_number).letter),
    ]

    assert [result.status for result in results] == [UNAVAILABLE] * 4
    assert all(result.data is None for result in results)
    assert {result.source for result in results} == {"la Caf"}


def test_a_case_system_that_is_not_configured_is_unavailable_too(settings, delegated):
    settings.PARTNER_CASE_SYSTEM_URL = ""

    assert selectors.payments_for(delegated.holder, delegated.case).unavailable


def test_the_holder_reads_the_letters_and_downloads_one(caf, delegated):
    number = delegated.case.case_number

    letters = selectors.letters_for(delegated.holder, delegated.case)
    pdf = selectors.letter_pdf_for(delegated.holder, delegated.case, ids(number).letter)

    assert letters.ok and [letter.id for letter in letters.data] == [ids(number).letter]
    assert isinstance(letters.data[0], Letter) and letters.data[0].subject == "Attestation de paiement"
    assert pdf.ok and pdf.data.startswith(b"%PDF-")


def test_another_cases_letter_or_a_made_up_id_is_not_found(caf, delegated, limited):
    other_letter = ids(limited.case.case_number).letter

    assert selectors.letter_pdf_for(delegated.holder, delegated.case, other_letter).status == NOT_FOUND
    assert selectors.letter_pdf_for(delegated.holder, delegated.case, "C-0000000-9").status == NOT_FOUND
    asked = caf.requests().get("caf", 0)
    assert selectors.letter_pdf_for(delegated.holder, delegated.case, "../../etc/passwd").status == NOT_FOUND
    assert caf.requests().get("caf", 0) == asked  # not even asked: no letter id has that form


def test_the_requests_answered_here_are_marked_and_offered_again_once_the_answer_is_undone(caf, delegated):
    key = ids(delegated.case.case_number)
    item = selectors.request_for(delegated.holder, delegated.case, key.text).data
    assert not item.answered and item.request.expects == "text"

    answer = services.answer_send(
        case=delegated.case, request=item.request, author=delegated.partner, text="En recherche d'emploi."
    )
    listed = {item.request.id: item for item in selectors.requests_for(delegated.holder, delegated.case).data}

    assert listed[key.text].answered and listed[key.text].answer == answer
    assert not listed[key.document].answered and not listed[key.both].answered

    journal.undo(Entry.objects.get(kind="agency.answered"))
    listed = {item.request.id: item for item in selectors.requests_for(delegated.holder, delegated.case).data}
    assert not listed[key.text].answered


def test_a_request_of_another_case_is_not_found_in_this_one(caf, delegated, limited):
    other = ids(limited.case.case_number).document

    assert selectors.request_for(delegated.holder, delegated.case, other).status == NOT_FOUND
    assert selectors.request_for(delegated.holder, delegated.case, "D-inconnu").status == NOT_FOUND


def test_a_household_the_case_system_does_not_know_has_nothing_to_show(caf, db):
    unknown = family()

    assert selectors.payments_for(unknown.holder, unknown.case).data == ()
    assert selectors.requests_for(unknown.holder, unknown.case).data == ()
