"""Undoing many journal entries at once (journal.services.undo_many): the batch path a time window's cancellation
takes, with handlers for a whole run of one kind (register_undo_many) and the one-by-one path when a handler
refuses."""

import pytest

from moncompte.journal import kinds, services
from moncompte.journal.models import Entry
from moncompte.journal.services import UndoError, record, undo, undo_many

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(monkeypatch):
    """Test kinds: `test.batched` with a batch handler only, `test.single` with a one-entry handler, `test.both`
    with both, `test.other` with none; each call is recorded as ("many" or "one", [entry ids])."""
    made: list[tuple[str, list[int]]] = []
    for name in ("test.batched", "test.single", "test.both"):
        monkeypatch.setitem(kinds._kinds, name, kinds.Kind(name, "Action de test", reversible=True))
    monkeypatch.setitem(kinds._kinds, "test.other", kinds.Kind("test.other", "Action sans annulation"))
    monkeypatch.setitem(
        services._undo_many_handlers, "test.batched", lambda entries: made.append(("many", [e.pk for e in entries]))
    )
    monkeypatch.setitem(services._undo_handlers, "test.single", lambda entry: made.append(("one", [entry.pk])))
    monkeypatch.setitem(
        services._undo_many_handlers, "test.both", lambda entries: made.append(("many", [e.pk for e in entries]))
    )
    monkeypatch.setitem(services._undo_handlers, "test.both", lambda entry: made.append(("one", [entry.pk])))
    return made


def entries(*names: str) -> list[Entry]:
    return [
        record(name, person_id=index, before={"n": index}, after={"n": index + 1}) for index, name in enumerate(names)
    ]


def test_runs_of_one_kind_go_to_its_batch_handler_together_and_in_the_order_given(calls):
    a, b, c, d, e, f = entries(
        "test.batched", "test.batched", "test.batched", "test.single", "test.batched", "test.both"
    )
    newest_first = [f, e, d, c, b, a]
    assert undo_many(newest_first) == {entry.pk: None for entry in newest_first}
    # f: a run of one, of a kind with both handlers, takes the single one
    assert calls == [("one", [f.pk]), ("many", [e.pk]), ("one", [d.pk]), ("many", [c.pk, b.pk, a.pk])]


def test_each_entry_is_marked_undone_by_its_own_undo_entry(calls):
    batch = entries("test.batched", "test.single", "test.batched", "test.batched")
    undo_many(batch)
    for entry in batch:
        entry.refresh_from_db()
        assert entry.undone_at is not None
        undone = entry.undone_by
        assert undone.kind == f"{entry.kind}.undone"
        assert (undone.person_id, undone.before, undone.after) == (entry.person_id, entry.after, entry.before)
    assert len({entry.undone_at for entry in batch}) == 1  # one batch, one instant
    assert Entry.objects.filter(kind__endswith=kinds.UNDONE).count() == 4


def test_entries_undone_already_are_passed_over(calls):
    first, second = entries("test.batched", "test.batched")
    undo(first)
    calls.clear()
    assert undo_many([second, first]) == {second.pk: None, first.pk: None}
    assert calls == [("many", [second.pk])]
    assert Entry.objects.filter(kind="test.batched.undone").count() == 2


def test_a_refusal_rolls_the_batch_back_and_each_entry_is_undone_alone(monkeypatch, calls):
    refused = entries("test.batched")[0]

    def refuse_one(batch):
        if refused.pk in [entry.pk for entry in batch]:
            record("test.single")  # written, then rolled back with its batch
            raise UndoError("Déjà traité.")
        calls.append(("many", [entry.pk for entry in batch]))

    monkeypatch.setitem(services._undo_many_handlers, "test.batched", refuse_one)
    older, newer = entries("test.batched", "test.batched")
    results = undo_many([newer, refused, older])
    assert str(results[refused.pk]) == "Déjà traité."
    assert results[newer.pk] is None and results[older.pk] is None
    assert calls == [("many", [newer.pk]), ("many", [older.pk])]  # the slow path: one entry at a time
    assert set(Entry.objects.filter(undone_at__isnull=False).values_list("pk", flat=True)) == {newer.pk, older.pk}
    assert not Entry.objects.filter(kind="test.single").exists()


def test_one_entry_of_a_kind_with_both_handlers_takes_the_single_one(calls):
    (entry,) = entries("test.both")
    undo(entry)
    assert calls == [("one", [entry.pk])]


def test_a_kind_with_a_batch_handler_alone_is_reversible_and_undone_alone_through_it(calls):
    (entry,) = entries("test.batched")
    assert services.is_reversible("test.batched")
    undo(entry)
    assert calls == [("many", [entry.pk])]


def test_a_kind_without_any_handler_makes_undo_many_tell_it_for_that_entry_only(calls):
    reversible, other = entries("test.batched", "test.other")
    results = undo_many([other, reversible])
    assert str(results[other.pk]) == "Les actions de type « test.other » ne peuvent pas être annulées."
    assert results[reversible.pk] is None
