"""The household at its edges (found in the review of issue 3; each test failed before its fix): a case number or a
member id no database can hold is a 404; pending account requests follow the people a separation moves; an old
revocation is not undone over the holder's later decision; the agents' admin of separations says what it did, tells
the household, lets a read-only agent do nothing, and no admin page shows a full NIR, a token hash or a code; the
dashboard does not call a limited person's own line the household."""

import datetime

import pytest
from django.utils import timezone

from moncompte.accounts.models import SecurityReport, SessionRecord
from moncompte.households import policy
from moncompte.households.delegation import delegation_grant, delegation_revoke
from moncompte.households.models import Case, Delegation, Invitation, Membership, SeparationRequest, SignupRequest
from moncompte.households.separation import separation_declare, separation_process
from moncompte.journal import services as journal
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage
from moncompte.verification.services import code_issue
from tests.agents import agent_client, agent_make
from tests.factories import family
from tests.helpers import page_text

pytestmark = pytest.mark.django_db
NIR_BACKEND = "moncompte.accounts.authentication.NirBackend"
STAFF_BACKEND = "moncompte.accounts.authentication.StaffBackend"
SEPARATIONS = "/admin/households/separationrequest/"


def sign_in(client, account, backend=NIR_BACKEND):
    client.force_login(account, backend=backend)
    return client


def declare(f, *, leaving, children):
    return separation_declare(
        case=f.case,
        declared_by=f.holder,
        leaving=leaving,
        separation_date=timezone.localdate() - datetime.timedelta(days=3),
        new_address="12 avenue de la Gare\n69003 Lyon",
        children=children,
    )


# --- Bad input in the address: a 404, never a server error -----------------------------------------------------------


def test_a_case_number_no_case_can_have_is_not_even_looked_up(client, django_assert_num_queries):
    """PostgreSQL refuses a NUL byte in a query: /mon-foyer/%00/ was a 500 there."""
    f = family()
    for number in ("1000000\x00", "\x00", "9" * 5000, ""):
        with django_assert_num_queries(0), pytest.raises(Case.DoesNotExist):
            policy.case_get(f.holder_account, number)
    sign_in(client, f.holder_account)
    for page in ("", "delegation/", "separation/", "inviter/1/"):
        assert client.get(f"/mon-foyer/{f.case.case_number}%00/{page}").status_code == 404


def test_a_member_id_too_large_for_the_database_is_a_404(client):
    """`policy.member_get` passed it to SQLite, which cannot compare it: the invitation page was a 500."""
    f = family()
    sign_in(client, f.holder_account)
    for person_id in ("9223372036854775808", "9" * 30):
        assert client.get(f"/mon-foyer/{f.case.case_number}/inviter/{person_id}/").status_code == 404
    with pytest.raises(Membership.DoesNotExist):
        policy.member_get(f.holder_account, f.case, 2**64, policy.Capability.INVITE_MEMBER)


# --- Separation: what follows the people who leave -----------------------------------------------------------------


def test_pending_account_requests_follow_the_people_who_leave_and_come_back_on_undo(client):
    f = family(children=2, partner_account=False)
    moving, staying = f.children
    requests = {
        person: SignupRequest.objects.create(case=f.case, person=person, medium="email", destination="x@y.fr")
        for person in (moving, staying, f.partner)
    }
    request = declare(f, leaving=f.partner, children={moving.pk: "leaving", staying.pk: "staying"})
    new_case = separation_process(request=request, agent_account_id=None)

    for signup in requests.values():
        signup.refresh_from_db()
    assert requests[moving].case == new_case and requests[moving].status == SignupRequest.Status.PENDING
    assert requests[staying].case == f.case and requests[staying].status == SignupRequest.Status.PENDING
    assert requests[f.partner].status == SignupRequest.Status.CANCELLED
    # The holder who stays no longer sees the request of the child who left, nor the partner's.
    text = page_text(sign_in(client, f.holder_account).get("/mon-foyer/"))
    assert f"{staying.full_name} a demandé" in text
    assert moving.full_name not in text and f.partner.full_name not in text

    journal.undo(Entry.objects.get(kind="separation.processed"))
    for signup in requests.values():
        signup.refresh_from_db()
        assert signup.case == f.case and signup.status == SignupRequest.Status.PENDING
    assert not Case.objects.filter(pk=new_case.pk).exists()


def test_a_request_of_someone_no_longer_in_the_case_is_not_shown_to_the_holder(client):
    f = family()
    other = family()
    # Left over from before a move (data older than the separation service, or an agent's change).
    SignupRequest.objects.create(case=f.case, person=other.children[0], medium="email", destination="x@y.fr")
    text = page_text(sign_in(client, f.holder_account).get("/mon-foyer/"))
    assert other.children[0].full_name not in text and "a demandé" not in text


# --- Delegation undo -------------------------------------------------------------------------------------------------


def test_an_old_revocation_is_not_undone_over_the_holders_later_decision():
    f = family()
    first = delegation_grant(case=f.case, holder=f.holder, partner=f.partner)
    delegation_revoke(case=f.case, holder=f.holder)
    delegation_grant(case=f.case, holder=f.holder, partner=f.partner)
    delegation_revoke(case=f.case, holder=f.holder)  # the holder's latest decision: no delegation

    old_revocation = Entry.objects.filter(kind="delegation.revoked").order_by("id").first()
    with pytest.raises(journal.UndoError):
        journal.undo(old_revocation)
    assert not Delegation.objects.filter(case=f.case, revoked_at__isnull=True).exists()

    # Undoing the whole window, latest first (the incident tooling), still puts the first delegation back.
    for entry in Entry.objects.filter(kind__startswith="delegation.", undone_at__isnull=True).order_by("-id")[:3]:
        journal.undo(entry)
    assert Delegation.objects.get(case=f.case, revoked_at__isnull=True) == first


# --- Admin -----------------------------------------------------------------------------------------------------------


@pytest.fixture
def agent(client):
    account = agent_make("agent-review", roles=("security",), superuser=True)
    agent_client(account, client)
    return account


def test_processing_a_separation_does_not_also_say_it_was_ignored(client, agent):
    f = family()
    request = declare(f, leaving=f.partner, children={f.children[0].pk: "staying"})
    response = client.post(SEPARATIONS, {"action": "process", "_selected_action": [request.pk]}, follow=True)
    text = page_text(response)
    assert "traitée : nouveau dossier" in text
    assert "ignorée(s)" not in text


def test_undoing_the_processing_in_the_admin_tells_the_holder_and_the_partner(client, agent):
    f = family(delegated=True)
    request = declare(f, leaving=f.partner, children={f.children[0].pk: "leaving"})
    separation_process(request=request, agent_account_id=agent.pk)
    OutboxMessage.objects.all().delete()

    response = client.post(SEPARATIONS, {"action": "undo_processing", "_selected_action": [request.pk]}, follow=True)

    assert "est de nouveau à traiter" in page_text(response)
    request.refresh_from_db()
    assert request.status == SeparationRequest.Status.PENDING
    for person in (f.holder, f.partner):
        message = OutboxMessage.objects.get(person_id=person.pk, medium="email")
        assert message.template == "households/notices/separation_undone"
        assert f.case.case_number in message.body and "délégation" in message.body
    assert Entry.objects.get(kind="separation.processed.undone").actor_account_id == agent.pk


def test_an_agent_who_may_only_read_declarations_cannot_process_or_undo_them(client):
    f = family()
    request = declare(f, leaving=f.partner, children={f.children[0].pk: "staying"})
    reader = agent_make("agent-lecture", permissions=("households.view_separationrequest",))
    agent_client(reader, client)

    response = client.get(SEPARATIONS)
    assert response.status_code == 200 and "Traiter la séparation" not in response.content.decode()
    client.post(SEPARATIONS, {"action": "process", "_selected_action": [request.pk]})
    request.refresh_from_db()
    assert request.status == SeparationRequest.Status.PENDING and Case.objects.count() == 1

    separation_process(request=request, agent_account_id=None)
    client.post(SEPARATIONS, {"action": "undo_processing", "_selected_action": [request.pk]})
    request.refresh_from_db()
    assert request.status == SeparationRequest.Status.PROCESSED


def test_the_admin_pages_of_the_new_models_show_no_full_nir_no_token_hash_and_no_code(client, agent):
    f = family(delegated=True)
    account = f.holder_account
    SignupRequest.objects.create(case=f.case, person=f.children[0], medium="email", destination="enfant@exemple.fr")
    Invitation.objects.create(
        case=f.case,
        person=f.children[0],
        created_by=f.holder,
        medium="email",
        destination="enfant@exemple.fr",
        token_hash="e" * 64,
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )
    declare(f, leaving=f.partner, children={f.children[0].pk: "staying"})
    SessionRecord.objects.create(account=account, session_ref="abcdef0123456789", last_seen_at=timezone.now())
    SecurityReport.objects.create(account=account, kind="contact.changed", source="history")
    code_issue(person=f.holder, purpose="contact", medium="email", destination=account.email)
    code = OutboxMessage.objects.latest("id").body
    secret = next(word for word in code.split() if word.isdigit() and len(word) == 6)

    nirs = [person.nir for person in (f.holder, f.partner, f.children[0])]
    pages = []
    for model, queryset in [
        ("households/delegation", Delegation.objects.all()),
        ("households/signuprequest", SignupRequest.objects.all()),
        ("households/invitation", Invitation.objects.all()),
        ("households/separationrequest", SeparationRequest.objects.all()),
        ("accounts/sessionrecord", SessionRecord.objects.all()),
        ("accounts/securityreport", SecurityReport.objects.all()),
        ("journal/entry", Entry.objects.all()),
    ]:
        pages.append(f"/admin/{model}/")
        pages += [f"/admin/{model}/{obj.pk}/change/" for obj in queryset]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.content.decode()
        assert "e" * 64 not in body, path
        assert secret not in body, path
        for nir in nirs:
            assert nir not in body, path


def test_the_dashboard_does_not_call_a_limited_persons_own_line_the_household(client):
    f = family()
    text = page_text(sign_in(client, f.partner_account).get("/mon-espace/"))
    assert "Vos informations dans ce dossier" in text and "Membres du foyer" not in text
    text = page_text(sign_in(client, f.holder_account).get("/mon-espace/"))
    assert "Membres du foyer" in text
