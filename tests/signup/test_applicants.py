"""New applicants (signup.applicants): what a refusal may say, and what opening an account does."""

import datetime

import pytest

from moncompte.accounts.models import Account
from moncompte.identity.models import FRANCE, Person
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from moncompte.signup.applicants import ApplicantIdentity, applicant_open, nir_hints
from tests.factories import AccountFactory, make_nir

EMAIL = "nouvelle@exemple.fr"
PASSWORD = "Lilas-Bleus-2026"


def identity(**changes) -> ApplicantIdentity:
    base = dict(
        nir="2860363113482",  # a woman born in March 1986 in Clermont-Ferrand (63113)
        birth_name="Fournier",
        usage_name="",
        given_names="Zoé Anna",
        birth_date=datetime.date(1986, 3, 5),
        sex="F",
        birthplace="63113",
        birth_country=FRANCE,
    )
    return ApplicantIdentity(**{**base, **changes})


def test_consistent_answers_give_no_hint():
    assert nir_hints(identity()) == []


@pytest.mark.parametrize(
    ("changes", "word"),
    [
        ({"sex": "M"}, "sexe"),
        ({"birth_date": datetime.date(1987, 3, 5)}, "date de naissance"),
        ({"birth_date": datetime.date(1986, 4, 5)}, "date de naissance"),
        ({"birthplace": "", "birth_country": "99350"}, "naissance en France"),
    ],
)
def test_a_hint_names_what_the_nir_contradicts(changes, word):
    hints = nir_hints(identity(**changes))
    assert len(hints) == 1 and word in hints[0]


def test_the_state_round_trips():
    assert ApplicantIdentity.from_state(identity().as_state()) == identity()


@pytest.mark.django_db
def test_opening_creates_the_person_and_a_finished_account():
    account = applicant_open(identity=identity(), medium="email", destination=EMAIL, password=PASSWORD)
    person = account.person
    assert (person.nir, person.birth_name, person.given_names) == ("2860363113482", "FOURNIER", "Zoé Anna")
    assert account.migration_done and account.email == EMAIL and account.check_password(PASSWORD)
    assert Entry.objects.filter(kind="applicant.registered", person_id=person.pk).exists()
    assert OutboxMessage.objects.filter(to=EMAIL, template="signup/notices/applicant_welcome").count() == 1


@pytest.mark.django_db
def test_without_a_nir_the_person_gets_a_provisional_identifier_as_login():
    account = applicant_open(identity=identity(nir=""), medium="email", destination=EMAIL, password=PASSWORD)
    person = account.person
    assert person.nir is None and person.provisional_id and account.login_id == person.provisional_id
    welcome = OutboxMessage.objects.get(to=EMAIL, template="signup/notices/applicant_welcome")
    assert person.provisional_id[1:6] in welcome.body


@pytest.mark.django_db
def test_a_known_nir_opens_no_second_account_and_both_are_told():
    known = AccountFactory(person__nir=make_nir()).person
    known.account.email, known.account.email_verified_at = "connu@exemple.fr", datetime.datetime.now(datetime.UTC)
    known.account.save()
    before = Person.objects.count(), Account.objects.count()
    assert (
        applicant_open(identity=identity(nir=known.nir), medium="email", destination=EMAIL, password=PASSWORD) is None
    )
    assert (Person.objects.count(), Account.objects.count()) == before
    assert OutboxMessage.objects.filter(to=EMAIL, template="signup/notices/applicant_known").count() == 1
    assert OutboxMessage.objects.filter(to="connu@exemple.fr", template="signup/notices/applicant_known_told").exists()
    assert Entry.objects.filter(kind="applicant.known_identity", person_id=known.pk).exists()
