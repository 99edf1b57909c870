"""A call shows in the person's « Historique de connexion et de sécurité », from the calling number, masked."""

import pytest

from moncompte.accounts.selectors import security_history
from moncompte.journal.models import Entry
from tests.helpers import page_text
from tests.phone.helpers import identify

pytestmark = pytest.mark.django_db
NIR_BACKEND = "moncompte.accounts.authentication.NirBackend"


def test_the_holders_history_shows_the_call_from_their_masked_number(phone, household, client):
    mobile = household.holder_account.mobile  # +33611223344, validated
    identify(phone(caller=mobile), household)
    entry = Entry.objects.get(kind="phone.identified")
    assert entry in security_history(household.holder_account)

    client.force_login(household.holder_account, backend=NIR_BACKEND)
    text = page_text(client.get("/mon-espace/securite/"))

    assert "Identification au serveur vocal" in text
    assert "Serveur vocal, depuis le 06 •• •• •• 44" in text
    assert "06 11 22 33 44" not in text and mobile not in text


def test_the_partners_call_is_not_in_the_holders_history(phone, household):
    identify(phone(), household, who="partner")
    entry = Entry.objects.get(kind="phone.identified")
    assert entry.person_id == household.partner.pk
    assert entry not in security_history(household.holder_account)
    assert entry in security_history(household.partner_account)
