"""The legacy import links a NIR that arrives for a member it knew without one (issue 11, item 6) by the rule every
link follows (identity.linking): the provisional identifier retired, the account's login id renamed, the person told
once, the link journaled. Only the linked people cost queries of their own."""

from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from moncompte.accounts.models import Account
from moncompte.identity import linking
from moncompte.identity.models import Person
from moncompte.journal.models import Channel, Entry
from moncompte.messaging.models import OutboxMessage
from tests.factories import AccountFactory
from tests.legacy.test_import import DATA, run_import, write_csv

LEA_NIR = "2120575112777"
#: valid.csv, with Léa's NIR known now (the rest unchanged).
LINKED = [
    "1000001;11112222;allocataire;1 82 03 75 112 045 56;Martin;;Thomas Jean;1982-03-14;M;75112;99100;"
    "thomas.martin@exemple.fr;06 00 00 01 01",
    "1000001;11112222;conjoint;2840769383012;Bernard;Martin;Julie Anne;1984-07-02;F;69383;99100;"
    "julie.bernard@exemple.fr;+33 6 00 00 01 02",
    f"1000001;11112222;enfant;{LEA_NIR};Martin;;Léa;2012-05-01;F;75112;99100;;",
    "1000002;33334444;allocataire;175062A00401291;Santoni;;Antoine;1975-06-08;M;2A004;99100;;",
    "1000002;33334444;autre;242033155551267;Moreau;;Simone Marie;1942-03-09;F;31555;99100;;",
    "1000003;55556666;allocataire;180019741128617;Payet;;Jean-Marc;1980-01-19;M;97411;99100;;0692 00 04 01",
    "1000004;77778888;allocataire;178049935034537;Benali;;Karim;1978-04-12;M;;99350;karim.benali@exemple.fr;",
    "1000004;77778888;conjoint;890029934126992;Diop;;Fatou;1990-02-17;F;;99341;;+590 690 00 11 01",
]


@pytest.fixture
def lea(db):
    """Léa imported without a NIR, with an account of her own (provisional login id, validated e-mail)."""
    run_import(DATA / "valid.csv")
    person = Person.objects.get(given_names="Léa")
    account = AccountFactory(person=person, login_id=person.provisional_id, email="lea@exemple.fr")
    Account.objects.filter(pk=account.pk).update(email_verified_at=timezone.now())
    return account


@pytest.mark.django_db
def test_a_nir_arriving_for_a_member_known_without_one_is_linked_by_the_common_rule(lea, tmp_path: Path):
    provisional_id = lea.person.provisional_id

    out, err, code = run_import(write_csv(tmp_path, LINKED))

    assert (code, err) == (0, ""), out
    person = Person.objects.get(pk=lea.person_id)
    assert (person.nir, person.provisional_id, person.retired_provisional_id) == (LEA_NIR, None, provisional_id)
    assert Account.objects.get(pk=lea.pk).login_id == LEA_NIR
    entry = Entry.objects.get(kind="person.nir_linked")
    assert (entry.person_id, entry.after, entry.channel) == (person.pk, {"by": "legacy_import"}, Channel.COMMAND)
    notices = OutboxMessage.objects.filter(template="accounts/notices/nir_linked")
    assert list(notices.values_list("medium", "to")) == [("email", "lea@exemple.fr")]
    assert Person.objects.count() == 8  # linked, not duplicated


@pytest.mark.django_db
def test_importing_the_file_again_links_nothing_more_and_tells_nobody_again(lea, tmp_path: Path):
    path = write_csv(tmp_path, LINKED)
    run_import(path)

    out, err, code = run_import(path, again=True)

    assert (code, err) == (0, ""), out
    assert Entry.objects.filter(kind="person.nir_linked").count() == 1
    assert OutboxMessage.objects.filter(template="accounts/notices/nir_linked").count() == 1


@pytest.mark.django_db
def test_only_the_linked_people_go_through_the_link_and_its_queries(lea, tmp_path: Path, monkeypatch):
    calls = []
    link_nir = linking.link_nir

    def spy(person, nir, **kwargs):
        calls.append(nir)
        return link_nir(person, nir, **kwargs)

    monkeypatch.setattr(linking, "link_nir", spy)
    path = write_csv(tmp_path, LINKED)
    with CaptureQueriesContext(connection) as with_a_link:
        run_import(path)
    assert calls == [LEA_NIR]

    with CaptureQueriesContext(connection) as without:
        run_import(path, again=True)  # the same batch, nobody to link any more

    assert calls == [LEA_NIR]
    # One member linked: a few queries (lock, check, update, journal, account, notice), not one per row.
    assert len(with_a_link.captured_queries) - len(without.captured_queries) <= 10


@pytest.mark.django_db
def test_a_retired_provisional_id_is_never_given_to_a_new_member(lea, tmp_path: Path, monkeypatch):
    from moncompte.identity import provisional

    run_import(write_csv(tmp_path, LINKED))
    retired = Person.objects.get(pk=lea.person_id).retired_provisional_id
    fresh = iter([retired, "P000000000097"])
    monkeypatch.setattr(provisional, "new_provisional_id", lambda: next(fresh))
    newcomer = "1000003;55556666;autre;;Payet;;Noé;2015-02-01;M;97411;99100;;"

    run_import(write_csv(tmp_path, [*LINKED, newcomer], name="newcomer.csv"))

    assert Person.objects.get(given_names="Noé").provisional_id == "P000000000097"
