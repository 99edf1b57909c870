"""Issue 12, item 5: every action of the window cancelled through the journal's undo handlers, newest first; a dry
run first; what cannot be undone lands on the agents' worklist; running again after an interruption finishes the
work, and running again after it finished is refused."""

import datetime

import pytest
from django.core.management import CommandError, call_command

from moncompte.households import delegation as delegations
from moncompte.households.models import Delegation
from moncompte.incidents import services
from moncompte.incidents.cancellation import cancel
from moncompte.incidents.models import Step, WorkItem
from moncompte.journal.context import acting
from moncompte.journal.models import Entry
from tests.factories import family
from tests.incidents.conftest import OCTOBER_10
from tests.incidents.helpers import in_the_window

HOUR = datetime.timedelta(hours=1)


def active(f) -> bool:
    return Delegation.objects.filter(case=f.case, revoked_at__isnull=True).exists()


def test_the_dry_run_counts_and_changes_nothing(night, incident, capsys):
    aubert, barre = night
    call_command("incident", "cancel", str(incident.pk), "--dry-run")

    out = capsys.readouterr().out
    assert "Actions à annuler : 1\n  delegation.granted : 1" in out
    assert "Actions pour la liste de travail des agents : 1\n  password.reset : 1" in out
    assert "Connexions et autres événements, rien à annuler : 1" in out
    assert "Rien n'a été changé." in out
    assert active(aubert) and active(barre)
    assert not WorkItem.objects.exists() and not Entry.objects.filter(undone_at__isnull=False).exists()
    assert incident.steps.filter(kind=Step.Kind.DRY_RUN).count() == 1


def test_the_cancellation_undoes_what_it_can_and_hands_the_rest_to_agents(night, incident, capsys):
    aubert, barre = night
    call_command("incident", "cancel", str(incident.pk))

    assert not active(aubert)  # undone
    assert active(barre)  # her password predates the window: not concerned, her action stands
    granted = Entry.objects.get(kind="delegation.granted", case_number=aubert.case.case_number)
    assert granted.undone_at is not None and granted.undone_by.kind == "delegation.granted.undone"
    assert granted.undone_by.channel == "command"
    assert set(WorkItem.objects.filter(kind=WorkItem.Kind.ACTION).values_list("what", flat=True)) == {"password.reset"}
    # The e-mails that told the Aubert household of the delegation went out: they cannot be recalled.
    messages = WorkItem.objects.filter(kind=WorkItem.Kind.MESSAGE)
    assert messages.exists() and set(messages.values_list("person_id", flat=True)) <= {
        aubert.holder.pk,
        aubert.partner.pk,
    }
    step = incident.steps.get(kind=Step.Kind.CANCELLED)
    assert step.figures["undone"] == 1 and step.figures["to_worklist"] == 1
    assert Entry.objects.filter(kind="incident.window_cancelled").count() == 1
    assert "examinées" in capsys.readouterr().out  # progress


def test_cancelling_twice_is_refused_and_changes_nothing(night, incident):
    call_command("incident", "cancel", str(incident.pk))
    before = (Entry.objects.count(), WorkItem.objects.count())
    with pytest.raises(CommandError, match="déjà été annulées"):
        call_command("incident", "cancel", str(incident.pk))
    assert (Entry.objects.count(), WorkItem.objects.count()) == before


def test_an_interrupted_cancellation_goes_on_where_it_stopped(db, incident):
    people = [family() for _ in range(4)]
    for index, f in enumerate(people):
        with acting(actor_account_id=f.holder_account.pk):
            delegations.delegation_grant(case=f.case, holder=f.holder, partner=f.partner)
        in_the_window(Entry.objects.filter(kind="delegation.granted").latest("id"), OCTOBER_10 + (index + 1) * HOUR)
    start, end = services.window_of(incident)

    def killed(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt  # stands for a kill after the second batch committed

    with pytest.raises(KeyboardInterrupt):
        cancel(incident, start=start, end=end, dry_run=False, progress=killed, batch=1)
    assert [active(f) for f in people] == [True, True, False, False]  # newest first: the last two are undone

    outcome = cancel(incident, start=start, end=end, dry_run=False, batch=1)

    assert sum(outcome.undone.values()) == 2 and outcome.already_undone == 2
    assert not any(active(f) for f in people)
    assert Entry.objects.filter(kind="delegation.granted.undone").count() == 4  # each undone once


def test_an_undo_that_refuses_lands_on_the_worklist_and_the_batch_goes_on(db, incident):
    f, g = family(delegated=True), family()
    with acting(actor_account_id=f.holder_account.pk):
        delegations.delegation_revoke(case=f.case, holder=f.holder)
    revoked = Entry.objects.get(kind="delegation.revoked")
    in_the_window(revoked, OCTOBER_10 + HOUR)
    Delegation.objects.filter(case=f.case).delete()  # gone since: its revocation cannot be undone
    with acting(actor_account_id=g.holder_account.pk):
        delegations.delegation_grant(case=g.case, holder=g.holder, partner=g.partner)
    in_the_window(Entry.objects.get(kind="delegation.granted"), OCTOBER_10 + 2 * HOUR)

    start, end = services.window_of(incident)
    outcome = cancel(incident, start=start, end=end, dry_run=False)

    assert dict(outcome.undone) == {"delegation.granted": 1}
    item = WorkItem.objects.get(entry_id=revoked.pk)
    assert item.reason == "Cette délégation n'existe plus."
    assert not active(g)


def test_an_agent_marks_work_items_done_and_it_is_journaled(night, incident):
    call_command("incident", "cancel", str(incident.pk))
    items = list(WorkItem.objects.all())
    assert services.work_items_done(items, actor="agent-securite") == len(items)
    assert not WorkItem.objects.filter(done_at__isnull=True).exists()
    assert set(WorkItem.objects.values_list("done_by", flat=True)) == {"agent-securite"}
    assert Entry.objects.get(kind="incident.work_done").after["work_items"] == [item.pk for item in items]
