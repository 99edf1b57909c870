"""Separation: declared by the holder or the partner, processed by an agent in the admin (new case for the person who
leaves, children as declared, delegation ended), journaled; the processing is undoable."""

import datetime

import pytest
from django.db import IntegrityError
from django.utils import timezone

from moncompte.households import separation as separation_module
from moncompte.households.models import Case, Delegation, Membership, Role, SeparationRequest
from moncompte.households.separation import SeparationError, separation_declare, separation_process
from moncompte.journal import services as journal
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from tests.agents import agent_client, agent_make
from tests.factories import AccountFactory, CaseFactory, MembershipFactory, PersonFactory, family
from tests.helpers import errors, page_text

pytestmark = pytest.mark.django_db
NIR_BACKEND = "moncompte.accounts.authentication.NirBackend"
ADDRESS = "12 avenue de la Gare\n69003 Lyon"
STAYING, LEAVING = "staying", "leaving"


def today():
    return timezone.localdate()


def declare(f, *, by=None, leaving=None, children=None, date=None, address=ADDRESS):
    return separation_declare(
        case=f.case,
        declared_by=by or f.holder,
        leaving=leaving or f.partner,
        separation_date=date or today() - datetime.timedelta(days=10),
        new_address=address,
        children=children if children is not None else {c.pk: STAYING for c in f.children},
    )


def url(case):
    return f"/mon-foyer/{case.case_number}/separation/"


def sign_in(client, account):
    client.force_login(account, backend=NIR_BACKEND)
    return client


def form_data(f, *, leaving=None, date=None, address=ADDRESS, children=None):
    data = {
        "separation_date": (date or today() - datetime.timedelta(days=3)).isoformat(),
        "leaving": (leaving or f.partner).pk,
        "new_address": address,
    }
    for child in f.children:
        data[f"child_{child.pk}"] = (children or {}).get(child.pk, STAYING)
    return data


def roles(case):
    return {m.person_id: m.role for m in Membership.objects.filter(case=case)}


# --- Declaring (service) ---------------------------------------------------------------------------------------------


def test_a_declaration_waits_for_an_agent_is_journaled_and_both_are_told():
    f = family(children=2)
    request = declare(f, children={f.children[0].pk: STAYING, f.children[1].pk: LEAVING})

    assert request.status == SeparationRequest.Status.PENDING and request.leaving == f.partner
    assert request.children == {str(f.children[0].pk): STAYING, str(f.children[1].pk): LEAVING}
    assert request.new_address == ADDRESS
    entry = Entry.objects.get(kind="separation.declared")
    assert entry.person_id == f.holder.pk and entry.after["request"] == request.pk
    assert "Lyon" not in str(entry.after)  # the address stays in the request, not in the journal
    for person in (f.holder, f.partner):
        assert OutboxMessage.objects.filter(person_id=person.pk, template="households/notices/separation_declared")
    # Nothing moves before the agent processes it.
    assert roles(f.case) == {
        f.holder.pk: Role.HOLDER,
        f.partner.pk: Role.PARTNER,
        **{c.pk: Role.CHILD for c in f.children},
    }


def test_only_one_declaration_waits_per_case():
    f = family()
    declare(f)
    with pytest.raises(SeparationError, match="déjà été déclarée"):
        declare(f, by=f.partner, leaving=f.holder)
    assert SeparationRequest.objects.count() == 1


@pytest.mark.parametrize(
    "change, message",
    [
        ({"date": "future"}, "futur"),
        ({"date": "old"}, "plus de 5 ans"),
        ({"leaving": "child"}, "allocataire ou son conjoint"),
        ({"by": "child"}, "Seuls l'allocataire et son conjoint"),
        ({"children": {}}, "chacun des enfants"),
        ({"address": "   "}, "nouvelle adresse"),
    ],
)
def test_a_declaration_the_household_does_not_allow_is_refused(change, message):
    f = family()
    kwargs = {}
    if change.get("date") == "future":
        kwargs["date"] = today() + datetime.timedelta(days=1)
    if change.get("date") == "old":
        kwargs["date"] = today().replace(year=today().year - 6)
    if change.get("leaving") == "child":
        kwargs["leaving"] = f.children[0]
    if change.get("by") == "child":
        kwargs["by"] = f.children[0]
    if "children" in change:
        kwargs["children"] = change["children"]
    if "address" in change:
        kwargs["address"] = change["address"]
    with pytest.raises(SeparationError, match=message):
        declare(f, **kwargs)
    assert not SeparationRequest.objects.exists() and not Entry.objects.exists()


def test_a_case_without_a_partner_has_no_separation_to_declare():
    f = family(partner=False)
    with pytest.raises(SeparationError, match="pas de couple"):
        separation_declare(
            case=f.case,
            declared_by=f.holder,
            leaving=f.holder,
            separation_date=today(),
            new_address=ADDRESS,
            children={},
        )


def test_undoing_a_declaration_cancels_it_while_it_waits():
    f = family()
    request = declare(f)
    journal.undo(Entry.objects.get(kind="separation.declared"))
    request.refresh_from_db()
    assert request.status == SeparationRequest.Status.CANCELLED
    declare(f)  # a new declaration is possible again


# --- Processing (service) --------------------------------------------------------------------------------------------


def test_processing_gives_the_leaving_partner_a_new_case_with_the_children_who_follow():
    f = family(children=2, delegated=True)
    request = declare(f, children={f.children[0].pk: STAYING, f.children[1].pk: LEAVING})
    highest = Case.objects.order_by("-case_number").first().case_number
    agent = AccountFactory(person=None, login_id="agent-sep", email="agent@caf.test", is_staff=True)

    new_case = separation_process(request=request, agent_account_id=agent.pk)

    assert new_case.case_number == f"{int(highest) + 1:07d}"
    assert new_case.address == ADDRESS and new_case.pin_hash == ""
    assert roles(new_case) == {f.partner.pk: Role.HOLDER, f.children[1].pk: Role.CHILD}
    assert roles(f.case) == {f.holder.pk: Role.HOLDER, f.children[0].pk: Role.CHILD}
    assert not Delegation.objects.filter(revoked_at__isnull=True).exists()
    request.refresh_from_db()
    assert request.status == SeparationRequest.Status.PROCESSED and request.new_case == new_case
    assert request.processed_by_account_id == agent.pk and request.processed_at
    entry = Entry.objects.get(kind="separation.processed")
    assert entry.actor_account_id == agent.pk and entry.after["new_case_number"] == new_case.case_number
    assert journal.is_reversible("separation.processed")
    leaving_notice = OutboxMessage.objects.get(
        person_id=f.partner.pk, template="households/notices/separation_processed"
    )
    assert new_case.case_number in leaving_notice.body and "pas de mot de passe à 8 chiffres" in leaving_notice.body
    assert OutboxMessage.objects.filter(person_id=f.holder.pk, template="households/notices/separation_processed")


def test_when_the_holder_leaves_the_partner_becomes_holder_of_the_existing_case():
    f = family(children=1, delegated=True)
    request = declare(f, by=f.partner, leaving=f.holder, children={f.children[0].pk: LEAVING})
    new_case = separation_process(request=request, agent_account_id=None)
    assert roles(f.case) == {f.partner.pk: Role.HOLDER}
    assert roles(new_case) == {f.holder.pk: Role.HOLDER, f.children[0].pk: Role.CHILD}
    assert not Delegation.objects.filter(revoked_at__isnull=True).exists()


def test_a_declaration_is_processed_once():
    f = family()
    request = declare(f)
    separation_process(request=request, agent_account_id=None)
    with pytest.raises(SeparationError, match="pas à traiter"):
        separation_process(request=request, agent_account_id=None)
    assert Case.objects.count() == 2


def test_processing_is_refused_when_the_household_changed_since_the_declaration():
    f = family()
    request = declare(f)
    Membership.objects.filter(person=f.partner).update(role=Role.OTHER)
    with pytest.raises(SeparationError, match="a changé"):
        separation_process(request=request, agent_account_id=None)
    assert Case.objects.count() == 1


@pytest.mark.parametrize("holder_leaves", [False, True])
def test_undoing_the_processing_puts_the_household_back_and_the_declaration_waits_again(holder_leaves):
    f = family(children=2, delegated=True)
    before = roles(f.case)
    delegation = Delegation.objects.get()
    request = declare(
        f,
        leaving=f.holder if holder_leaves else f.partner,
        children={f.children[0].pk: LEAVING, f.children[1].pk: STAYING},
    )
    new_case = separation_process(request=request, agent_account_id=None)

    journal.undo(Entry.objects.get(kind="separation.processed"))

    assert roles(f.case) == before
    assert not Case.objects.filter(pk=new_case.pk).exists()
    delegation.refresh_from_db()
    assert delegation.revoked_at is None
    request.refresh_from_db()
    assert request.status == SeparationRequest.Status.PENDING and request.new_case is None
    assert request.processed_at is None and request.processed_by_account_id is None
    assert Entry.objects.filter(kind="separation.processed.undone").exists()
    # It can be processed again.
    separation_process(request=request, agent_account_id=None)


def test_the_processing_is_not_undone_once_the_new_case_has_other_members():
    f = family()
    request = declare(f)
    new_case = separation_process(request=request, agent_account_id=None)
    MembershipFactory(case=new_case, role=Role.CHILD, person=PersonFactory(child=True))
    with pytest.raises(journal.UndoError, match="d'autres membres"):
        journal.undo(Entry.objects.get(kind="separation.processed"))
    assert roles(f.case) == {f.holder.pk: Role.HOLDER, f.children[0].pk: Role.CHILD}


def test_a_processed_declaration_cannot_be_undone_before_its_processing():
    f = family()
    request = declare(f)
    separation_process(request=request, agent_account_id=None)
    with pytest.raises(journal.UndoError, match="annulez d'abord son traitement"):
        journal.undo(Entry.objects.get(kind="separation.declared"))


def test_a_case_number_taken_meanwhile_is_skipped(monkeypatch):
    f = family()
    taken = CaseFactory().case_number
    numbers = iter([taken, "7654321"])
    monkeypatch.setattr(separation_module, "_next_case_number", lambda: next(numbers))
    new_case = separation_process(request=declare(f), agent_account_id=None)
    assert new_case.case_number == "7654321"


def test_a_case_number_that_keeps_clashing_is_a_clear_error(monkeypatch):
    f = family()
    request = declare(f)
    taken = f.case.case_number
    monkeypatch.setattr(separation_module, "_next_case_number", lambda: taken)
    with pytest.raises(SeparationError, match="numéro de dossier"):
        separation_process(request=request, agent_account_id=None)
    request.refresh_from_db()
    assert request.status == SeparationRequest.Status.PENDING and Case.objects.count() == 1
    with pytest.raises(IntegrityError):
        Case.objects.create(case_number=taken)


# --- The page --------------------------------------------------------------------------------------------------------


def test_the_holder_declares_a_separation_and_the_page_says_it_was_received(client):
    f = family(children=2)
    sign_in(client, f.holder_account)
    response = client.get(url(f.case))
    assert response.status_code == 200
    text = page_text(response)
    assert f.partner.full_name in text and f.children[0].full_name in text

    data = form_data(f, children={f.children[1].pk: LEAVING})
    response = client.post(url(f.case), data, follow=True)
    assert response.status_code == 200
    text = page_text(response)
    assert "Votre déclaration de séparation est enregistrée" in text and "Déclaration reçue" in text
    assert "Un agent de la Caf va la traiter" in text
    request = SeparationRequest.objects.get()
    assert request.declared_by == f.holder and request.leaving == f.partner
    assert request.children == {str(f.children[0].pk): STAYING, str(f.children[1].pk): LEAVING}


def test_a_partner_without_delegation_declares_without_seeing_the_others_data(client):
    f = family(children=2)
    sign_in(client, f.partner_account)
    response = client.get(url(f.case))
    assert response.status_code == 200
    body = response.content.decode()
    for person in (f.holder, *f.children):
        assert person.birth_name not in body and person.given_names not in body
    text = page_text(response)
    assert "L'allocataire du dossier" in text and "l'enfant n° 2 du dossier" in text

    response = client.post(url(f.case), form_data(f, leaving=f.partner), follow=True)
    assert "Déclaration reçue" in page_text(response) and "Vous quittez le logement" in page_text(response)
    assert SeparationRequest.objects.get().declared_by == f.partner


def test_a_child_cannot_declare_a_separation_and_is_told_why(client):
    f = family()
    sign_in(client, AccountFactory(person=f.children[0]))
    for response in (client.get(url(f.case)), client.post(url(f.case), form_data(f))):
        assert response.status_code == 403
        assert "Une séparation est déclarée par l'allocataire ou par son conjoint" in page_text(response)
    assert not SeparationRequest.objects.exists()


def test_a_foreign_or_unknown_case_number_is_a_404(client):
    f, other = family(), family()
    sign_in(client, f.holder_account)
    for case_number in (other.case.case_number, "9999999", "x'--"):
        assert client.get(f"/mon-foyer/{case_number}/separation/").status_code == 404
        assert client.post(f"/mon-foyer/{case_number}/separation/", form_data(other)).status_code == 404
    assert not SeparationRequest.objects.exists()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("separation_date", "future", "La date de séparation ne peut pas être dans le futur."),
        ("separation_date", "1990-01-01", "plus de 5 ans"),
        ("separation_date", "31/02/2024", "Saisissez une date valide"),
        ("separation_date", "", "Indiquez la date de la séparation."),
        ("leaving", "stranger", "cette personne n'est pas dans la liste"),
        ("leaving", "child", "cette personne n'est pas dans la liste"),
        ("leaving", "abc", "cette personne n'est pas dans la liste"),
        ("new_address", "", "Indiquez la nouvelle adresse"),
        ("new_address", "Lyon", "trop courte"),
        ("child", "", "Indiquez avec qui vivra cet enfant."),
        ("child", "with-grandma", "Indiquez avec qui vivra cet enfant."),
    ],
)
def test_bad_input_on_the_separation_form_gets_a_french_message_and_changes_nothing(client, field, value, message):
    f = family()
    sign_in(client, f.holder_account)
    data = form_data(f)
    if value == "future":
        value = (today() + datetime.timedelta(days=1)).isoformat()
    elif value == "stranger":
        value = AccountFactory().person.pk
    elif value == "child":
        value = f.children[0].pk
    if field == "child":
        field = f"child_{f.children[0].pk}"
    data[field] = value
    response = client.post(url(f.case), data)
    assert response.status_code == 400
    assert any(message in error for error in errors(response)) or message in page_text(response)
    assert not SeparationRequest.objects.exists()


def test_a_second_declaration_is_refused_with_a_clear_message(client):
    f = family()
    sign_in(client, f.holder_account)
    client.post(url(f.case), form_data(f))
    sign_in(client, f.partner_account)
    response = client.get(url(f.case))
    assert "Déclaration reçue" in page_text(response) and "Envoyer ma déclaration" not in page_text(response)
    response = client.post(url(f.case), form_data(f, leaving=f.holder))
    assert response.status_code == 400
    assert "Une séparation a déjà été déclarée pour ce dossier" in page_text(response)
    assert SeparationRequest.objects.count() == 1


def test_a_case_without_a_partner_says_there_is_nothing_to_declare(client):
    f = family(partner=False)
    sign_in(client, f.holder_account)
    response = client.get(url(f.case))
    assert response.status_code == 200 and "il n'y a pas de séparation à déclarer" in page_text(response)
    assert client.post(url(f.case), {"leaving": f.holder.pk}).status_code == 400
    assert not SeparationRequest.objects.exists()


def test_wrong_methods_and_signed_out_people_change_nothing(client):
    f = family()
    assert client.post(url(f.case), form_data(f)).status_code == 302  # to the login page
    sign_in(client, f.holder_account)
    assert client.get(url(f.case), form_data(f)).status_code == 200
    assert client.put(url(f.case)).status_code == 405
    assert client.post(url(f.case), {}).status_code == 400
    assert not SeparationRequest.objects.exists()


def test_after_processing_each_sees_their_own_case(client):
    f = family(children=1)
    request = declare(f, children={f.children[0].pk: LEAVING})
    new_case = separation_process(request=request, agent_account_id=None)
    sign_in(client, f.partner_account)
    response = client.get("/mon-foyer/")
    text = page_text(response)
    assert f"Dossier n° {new_case.case_number}" in text and f"Dossier n° {f.case.case_number}" not in text
    assert f.children[0].full_name in text and f.holder.birth_name not in text
    assert client.get(url(f.case)).status_code == 404
    sign_in(client, f.holder_account)
    text = page_text(client.get("/mon-foyer/"))
    assert f.partner.birth_name not in text and f.children[0].birth_name not in text


# --- The admin -------------------------------------------------------------------------------------------------------


@pytest.fixture
def agent(client):
    account = agent_make("agent-separations", superuser=True)
    agent_client(account, client)
    return account


def test_an_agent_processes_then_undoes_a_separation_in_the_admin(client, agent):
    f = family(children=1, delegated=True)
    request = declare(f, children={f.children[0].pk: LEAVING})
    response = client.get(f"/admin/households/separationrequest/{request.pk}/change/")
    assert response.status_code == 200
    body = response.content.decode()
    assert f.children[0].full_name in body and "Avec la personne qui part" in body
    assert f.holder.nir not in body and f.partner.nir not in body

    response = client.post(
        "/admin/households/separationrequest/", {"action": "process", "_selected_action": [request.pk]}, follow=True
    )
    request.refresh_from_db()
    assert request.status == SeparationRequest.Status.PROCESSED
    assert f"nouveau dossier n° {request.new_case.case_number}" in page_text(response)
    assert Entry.objects.get(kind="separation.processed").actor_account_id == agent.pk

    # Processing twice is ignored with a warning.
    response = client.post(
        "/admin/households/separationrequest/", {"action": "process", "_selected_action": [request.pk]}, follow=True
    )
    assert "déjà traitée(s) ou annulée(s)" in page_text(response) and Case.objects.count() == 2

    response = client.post(
        "/admin/households/separationrequest/",
        {"action": "undo_processing", "_selected_action": [request.pk]},
        follow=True,
    )
    assert "est de nouveau à traiter" in page_text(response)
    request.refresh_from_db()
    assert request.status == SeparationRequest.Status.PENDING and Case.objects.count() == 1
    assert Delegation.objects.filter(revoked_at__isnull=True).exists()


def test_the_separation_requests_cannot_be_edited_in_the_admin(client, agent):
    f = family()
    request = declare(f)
    response = client.post(
        f"/admin/households/separationrequest/{request.pk}/change/", {"status": "processed", "new_address": "x"}
    )
    assert response.status_code == 403
    request.refresh_from_db()
    assert request.status == SeparationRequest.Status.PENDING
    assert client.get("/admin/households/separationrequest/add/").status_code == 403


def test_citizens_cannot_reach_the_admin(client):
    f = family()
    request = declare(f)
    sign_in(client, f.holder_account)
    response = client.post(
        "/admin/households/separationrequest/", {"action": "process", "_selected_action": [request.pk]}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == SeparationRequest.Status.PENDING
