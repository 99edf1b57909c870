"""Issue 12, item 6: each person an incident concerns is told once, in French, what happened, why they are concerned,
what was cancelled for them and what to do; by e-mail and/or SMS through the outbox; people with no validated
contact go to the worklist; running again tells nobody twice."""

import pytest
from django.core.management import CommandError, call_command

from moncompte.incidents import services
from moncompte.incidents.models import Notice, Step, WorkItem
from moncompte.journal.models import Entry
from moncompte.messaging.models import OutboxMessage

TEMPLATE = "incidents/notices/incident"
SUMMARY = "Des personnes connectées ont pu voir le dossier d'autres allocataires."


@pytest.fixture
def ready(night, incident):
    """The night's actions cancelled, and the text for the public written."""
    services.incident_update(incident, actor="test", public_summary=SUMMARY)
    call_command("incident", "cancel", str(incident.pk))
    return night, incident


def notices():
    return OutboxMessage.objects.filter(template=TEMPLATE)


def test_the_person_who_acted_is_told_what_was_cancelled_for_her(ready, capsys):
    (aubert, barre), incident = ready
    call_command("incident", "notify", str(incident.pk), "--rate", "1000")

    mail = notices().get(person_id=aubert.holder.pk, medium="email")
    assert mail.to == aubert.holder_account.email
    assert mail.subject == "Incident de sécurité sur Mon Compte : ce qui vous concerne"
    body = mail.body
    assert f"Bonjour {aubert.holder.first_name}," in body
    assert "entre le 10 octobre 2021 à 21:00 et le 11 octobre 2021 à 08:00" in body
    assert SUMMARY in body
    assert "vous avez utilisé votre espace pendant cette période" in body
    assert "· Délégation accordée au conjoint" in body
    assert "Ce n'était pas moi" in body and "dpo@" in body
    # Barre chose her password before the window: she is not concerned, and is not told.
    assert not notices().filter(person_id=barre.holder.pk).exists()
    notice = Notice.objects.get(person_id=aubert.holder.pk)
    assert notice.cancelled == 1 and notice.messages == [mail.pk]
    out = capsys.readouterr().out
    assert "Personnes prévenues : 1" in out
    step = incident.steps.get(kind=Step.Kind.NOTIFIED)
    assert step.figures == {"notified": 1, "messages": 1, "no_contact": 0, "already": 0}
    assert Entry.objects.filter(kind="incident.notified").count() == 1


def test_running_again_tells_nobody_twice(ready, capsys):
    (aubert, _), incident = ready
    call_command("incident", "notify", str(incident.pk), "--rate", "1000")
    call_command("incident", "notify", str(incident.pk), "--rate", "1000")
    assert notices().filter(person_id=aubert.holder.pk).count() == 1
    assert Notice.objects.count() == 1
    assert "Déjà prévenues lors d'un passage précédent : 1" in capsys.readouterr().out


def test_a_person_without_a_validated_contact_goes_to_the_worklist(ready):
    (aubert, _), incident = ready
    aubert.holder_account.email_verified_at = None
    aubert.holder_account.save(update_fields=["email_verified_at"])
    call_command("incident", "notify", str(incident.pk), "--rate", "1000")
    assert not notices().exists()
    item = WorkItem.objects.get(kind=WorkItem.Kind.CONTACT)
    assert item.person_id == aubert.holder.pk and "courrier" in item.reason
    assert Notice.objects.get().messages == []


def test_the_sms_carries_no_link(ready):
    (aubert, _), incident = ready
    account = aubert.holder_account
    account.mobile, account.mobile_verified_at = "+33612345678", account.email_verified_at
    account.save(update_fields=["mobile", "mobile_verified_at"])
    call_command("incident", "notify", str(incident.pk), "--rate", "1000")
    sms = notices().get(medium="sms")
    assert "http" not in sms.body and "10/10 21:00" in sms.body and "(1)" in sms.body


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        ("no_summary", "Écrivez d'abord ce qui s'est passé"),
        ("not_cancelled", "Annulez d'abord les actions de la période"),
    ],
)
def test_notices_wait_for_the_text_and_the_cancellation(night, incident, prepare, message):
    if prepare == "not_cancelled":
        services.incident_update(incident, actor="test", public_summary=SUMMARY)
    with pytest.raises(CommandError, match=message):
        call_command("incident", "notify", str(incident.pk))
    assert not Notice.objects.exists() and not notices().exists()


def test_a_rate_that_is_not_positive_is_refused(ready):
    _, incident = ready
    with pytest.raises(CommandError, match="supérieur à 0"):
        call_command("incident", "notify", str(incident.pk), "--rate", "0")
    assert not Notice.objects.exists()
