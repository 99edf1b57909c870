"""Linking a NIR to a person who had only a provisional identifier (issue 11, item 6): one rule whoever links (an agent
in the admin, the legacy import). The NIR is set, the provisional identifier retired, the account's login id renamed,
the person told once, the link journaled and undoable; a NIR someone else holds is refused and nothing changes."""

from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from moncompte.accounts.models import Account
from moncompte.identity import linking
from moncompte.identity.models import Person
from moncompte.identity.nir import NirError, nir_key
from moncompte.identity.provisional import new_provisional_id, provisional_grouped
from moncompte.journal import kinds
from moncompte.journal.models import Entry
from moncompte.journal.services import undo
from moncompte.messaging.models import OutboxMessage
from tests.agents import agent_client as signed_in_agent
from tests.agents import agent_make
from tests.factories import AccountFactory, PersonFactory, make_nir
from tests.helpers import page_text

LABEL = "Votre numéro de Sécurité sociale a été rattaché à votre compte"
HISTORY = "/mon-espace/securite/"
AGENT_PASSWORD = "Ag3nt-Secret!"
STAFF_BACKEND = "moncompte.accounts.authentication.StaffBackend"
NIR_BACKEND = "moncompte.accounts.authentication.NirBackend"


def provisional_person(**fields) -> Person:
    return PersonFactory(nir=None, provisional_id=new_provisional_id(), sex="M", **fields)


def holder_of_a_provisional_id() -> SimpleNamespace:
    """A person without a NIR, whose account signs in with the provisional identifier, e-mail and mobile validated."""
    person = provisional_person()
    account = AccountFactory(person=person, login_id=person.provisional_id, mobile="+33611223344")
    Account.objects.filter(pk=account.pk).update(mobile_verified_at=timezone.now())
    return SimpleNamespace(person=person, account=account, provisional_id=person.provisional_id)


def a_nir_for(person: Person, seq: int = 4242) -> str:
    return make_nir(sex="1" if person.sex == "M" else "2", year=person.birth_date.year, seq=seq)


def state(person: Person) -> tuple:
    person = Person.objects.get(pk=person.pk)
    account = Account.objects.filter(person=person).values_list("login_id", flat=True).first()
    return (person.nir, person.provisional_id, person.retired_provisional_id, account)


# --- The rule ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_linking_sets_the_nir_retires_the_provisional_id_and_renames_the_login_id():
    holder = holder_of_a_provisional_id()
    nir = a_nir_for(holder.person)

    person = linking.link_nir(holder.person, nir, by=linking.BY_AGENT)

    assert person is holder.person and (person.nir, person.provisional_id) == (nir, None)
    assert state(holder.person) == (nir, None, holder.provisional_id, nir)


@pytest.mark.django_db
def test_the_nir_may_be_given_with_its_key_and_a_wrong_key_is_refused():
    first, second = holder_of_a_provisional_id(), holder_of_a_provisional_id()
    nir, other = a_nir_for(first.person), a_nir_for(second.person, 77)
    before = state(second.person)

    linking.link_nir(first.person, f"{nir[:1]} {nir[1:]}{nir_key(nir):02d}", by=linking.BY_AGENT)
    with pytest.raises(NirError):
        linking.link_nir(second.person, f"{other}{nir_key(other) % 97 + 1:02d}", by=linking.BY_AGENT)

    assert state(first.person)[0] == nir
    assert state(second.person) == before


@pytest.mark.django_db
def test_the_link_is_journaled_in_the_security_history_and_can_be_undone():
    holder = holder_of_a_provisional_id()
    nir = a_nir_for(holder.person)

    linking.link_nir(holder.person, nir, by=linking.BY_AGENT, agent_account_id=None, reason="attestation au guichet")

    entry = Entry.objects.get(kind="person.nir_linked")
    assert entry.person_id == holder.person.pk
    assert entry.before == {"provisional_id": holder.provisional_id}
    assert entry.after == {"by": "agent", "reason": "attestation au guichet"}
    assert nir not in str(entry.before) + str(entry.after)  # the journal never holds the NIR
    assert kinds.label(entry) == LABEL
    assert kinds.get("person.nir_linked").security and kinds.get("person.nir_linked").reversible
    assert not kinds.is_disownable(entry)  # made by the Caf: "Ce n'était pas moi" does not fit

    client = Client(HTTP_HOST="localhost")
    client.force_login(holder.account, backend=NIR_BACKEND)
    assert LABEL in page_text(client.get(HISTORY))

    undo(entry)

    assert state(holder.person) == (None, holder.provisional_id, None, holder.provisional_id)
    assert Entry.objects.filter(kind="person.nir_linked.undone", person_id=holder.person.pk).count() == 1


@pytest.mark.django_db
def test_the_person_is_told_once_on_each_validated_contact_that_they_now_sign_in_with_their_nir():
    holder = holder_of_a_provisional_id()
    nir = a_nir_for(holder.person)

    linking.link_nir(holder.person, nir, by=linking.BY_AGENT)
    linking.link_nir(holder.person, nir, by=linking.BY_AGENT)  # the same NIR again: nothing more
    linking.link_nir(Person.objects.get(pk=holder.person.pk), f"{nir}{nir_key(nir):02d}", by=linking.BY_LEGACY_IMPORT)

    notices = OutboxMessage.objects.filter(template="accounts/notices/nir_linked")
    assert sorted(notices.values_list("medium", "to")) == [
        ("email", holder.account.email),
        ("sms", "+33611223344"),
    ]
    email = notices.get(medium="email")
    assert "numéro de Sécurité sociale" in email.subject and "identifiant provisoire ne fonctionne plus" in email.body
    assert nir not in email.body + email.subject + notices.get(medium="sms").body
    assert "http" not in notices.get(medium="sms").body
    assert Entry.objects.filter(kind="person.nir_linked").count() == 1


@pytest.mark.django_db
def test_a_person_without_an_account_is_linked_and_nobody_is_told():
    person = provisional_person()
    provisional_id = person.provisional_id

    linking.link_nir(person, a_nir_for(person), by=linking.BY_LEGACY_IMPORT)

    assert state(person)[1:] == (None, provisional_id, None)
    assert not OutboxMessage.objects.exists()  # contacts on file prove nothing (messaging.person_notify)


# --- Refusals change nothing -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_nir_another_person_holds_is_refused_and_nothing_changes():
    holder = holder_of_a_provisional_id()
    other = PersonFactory()
    before = state(holder.person)

    with pytest.raises(linking.LinkRefused) as refused:
        linking.link_nir(holder.person, other.nir, by=linking.BY_AGENT)

    assert refused.value.code == "taken"
    assert "déjà celui d'une autre personne" in str(refused.value.message)
    assert other.nir not in str(refused.value.message)
    assert state(holder.person) == before
    assert holder.person.nir is None and holder.person.provisional_id == holder.provisional_id
    assert not Entry.objects.filter(kind="person.nir_linked").exists()
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_a_person_who_has_another_nir_is_refused():
    person = PersonFactory()
    before = state(person)

    with pytest.raises(linking.LinkRefused) as refused:
        linking.link_nir(person, make_nir(seq=9191), by=linking.BY_AGENT)

    assert refused.value.code == "has_another_nir"
    assert state(person) == before


@pytest.mark.django_db
def test_a_login_id_held_by_an_agent_refuses_the_link_and_rolls_it_back():
    holder = holder_of_a_provisional_id()
    nir = a_nir_for(holder.person)
    Account.objects.create_user(nir, AGENT_PASSWORD, is_staff=True)
    before = state(holder.person)

    with pytest.raises(linking.LinkRefused):
        linking.link_nir(holder.person, nir, by=linking.BY_AGENT)

    assert state(holder.person) == before
    assert not Entry.objects.filter(kind="person.nir_linked").exists()
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_the_undo_refuses_when_the_link_changed_since():
    from moncompte.journal.services import UndoError

    holder = holder_of_a_provisional_id()
    linking.link_nir(holder.person, a_nir_for(holder.person), by=linking.BY_AGENT)
    Person.objects.filter(pk=holder.person.pk).update(retired_provisional_id=None)

    with pytest.raises(UndoError):
        undo(Entry.objects.get(kind="person.nir_linked"))


@pytest.mark.django_db
def test_the_database_refuses_a_nir_beside_a_provisional_id():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        PersonFactory(provisional_id=new_provisional_id())


# --- « Rattacher un NIR » in the admin -------------------------------------------------------------------------------


def make_agent(*codenames: str) -> Account:
    return agent_make("agent-accueil", permissions=tuple(f"identity.{name}" for name in codenames or ("view_person",)))


def admin_client(agent: Account) -> Client:
    return signed_in_agent(agent)


def link_url(person: Person) -> str:
    return f"/admin/identity/person/{person.pk}/rattacher-nir/"


@pytest.fixture
def agent_client(db):
    agent = make_agent("view_person", "change_person")
    client = admin_client(agent)
    client.agent = agent
    return client


@pytest.mark.django_db
def test_the_admin_action_leads_to_the_form_which_links_the_nir(agent_client):
    holder = holder_of_a_provisional_id()
    nir = a_nir_for(holder.person)

    change = agent_client.get(f"/admin/identity/person/{holder.person.pk}/change/")
    assert link_url(holder.person) in change.content.decode()
    action = agent_client.post(
        "/admin/identity/person/", {"action": "link_nir", "_selected_action": [holder.person.pk]}
    )
    assert action.status_code == 302 and action["Location"] == link_url(holder.person)
    form = agent_client.get(link_url(holder.person))
    assert form.status_code == 200
    assert provisional_grouped(holder.provisional_id) in page_text(form)

    response = agent_client.post(
        link_url(holder.person), {"nir": f"{nir}{nir_key(nir):02d}", "reason": "attestation de droits au guichet"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/admin/identity/person/{holder.person.pk}/change/"
    assert state(holder.person) == (nir, None, holder.provisional_id, nir)
    entry = Entry.objects.get(kind="person.nir_linked")
    assert entry.actor_account_id == agent_client.agent.pk
    assert entry.after == {"by": "agent", "reason": "attestation de droits au guichet"}
    page = agent_client.get(response["Location"])
    assert nir not in page.content.decode()  # shown masked, as every NIR in the admin
    assert link_url(holder.person) not in page.content.decode()  # nothing more to link


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "message"),
    [
        pytest.param(lambda nir: nir, "Saisissez le numéro complet, avec sa clé : 15 caractères.", id="without key"),
        pytest.param(
            lambda nir: f"{nir}{nir_key(nir) % 97 + 1:02d}", "La clé de contrôle ne correspond pas", id="wrong key"
        ),
        pytest.param(
            lambda nir: (f := "2" + nir[1:]) + f"{nir_key(f):02d}", "personne de l'autre sexe", id="other sex"
        ),
        pytest.param(
            lambda nir: (f := nir[:1] + "99" + nir[3:]) + f"{nir_key(f):02d}", "L'année de naissance", id="other year"
        ),
    ],
)
def test_the_admin_form_refuses_a_nir_that_does_not_fit_and_changes_nothing(agent_client, typed, message):
    holder = holder_of_a_provisional_id()
    before = state(holder.person)

    response = agent_client.post(link_url(holder.person), {"nir": typed(a_nir_for(holder.person)), "reason": "x"})

    assert response.status_code == 200
    assert message in page_text(response)
    assert state(holder.person) == before
    assert not Entry.objects.filter(kind="person.nir_linked").exists()


@pytest.mark.django_db
def test_the_admin_form_refuses_a_nir_another_person_holds_with_a_clear_message(agent_client):
    holder = holder_of_a_provisional_id()
    other = PersonFactory(sex="M", birth_date=holder.person.birth_date, nir=a_nir_for(holder.person))
    before = state(holder.person)

    response = agent_client.post(
        link_url(holder.person), {"nir": f"{other.nir}{nir_key(other.nir):02d}", "reason": "guichet"}
    )

    assert response.status_code == 200
    assert "déjà celui d'une autre personne connue de la Caf : rien n'a été modifié" in page_text(response)
    assert state(holder.person) == before
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_the_admin_action_takes_one_person_without_a_nir(agent_client):
    one, two = holder_of_a_provisional_id(), holder_of_a_provisional_id()
    with_nir = PersonFactory()

    selected = [one.person.pk, two.person.pk]
    both = agent_client.post(
        "/admin/identity/person/", {"action": "link_nir", "_selected_action": selected}, follow=True
    )
    already = agent_client.post(
        "/admin/identity/person/", {"action": "link_nir", "_selected_action": [with_nir.pk]}, follow=True
    )

    assert "Sélectionnez une seule personne" in page_text(both)
    assert "Cette personne a déjà un NIR." in page_text(already)
    assert agent_client.get(link_url(with_nir))["Location"] == f"/admin/identity/person/{with_nir.pk}/change/"


@pytest.mark.django_db
def test_an_agent_who_may_only_view_people_cannot_link():
    holder = holder_of_a_provisional_id()
    client = admin_client(make_agent("view_person"))

    assert client.get(link_url(holder.person)).status_code == 403
    assert client.post(link_url(holder.person), {"nir": "x", "reason": "x"}).status_code == 403
    assert state(holder.person)[0] is None
