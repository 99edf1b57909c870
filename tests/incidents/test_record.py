"""Issue 12, item 2: the incident record (window, description, data categories, status, timeline) from the command
line; bad input (a window that ends before it starts, a date not understood, an unknown incident or category) says
why in French and changes nothing."""

import pytest
from django.core.management import CommandError, call_command

from moncompte.incidents.models import Incident, Step
from moncompte.journal.models import Entry

ENDS_BEFORE = "La fin de la période concernée doit être après son début"
OPEN = ["incident", "open", "--title", "Accès croisés", "--description", "Pages d'autres personnes montrées"]


@pytest.mark.django_db
def test_an_incident_is_opened_listed_and_shown_with_its_timeline(capsys):
    call_command(*OPEN, "--start", "2021-10-10 21:00", "--detected", "2021-10-11 07:30", "--category", "identity")
    incident = Incident.objects.get()
    assert incident.reference == f"INC-2021-{incident.pk:04d}"
    assert incident.window_end is None and incident.categories == ["identity"]

    call_command("incident", "update", str(incident.pk), "--end", "2021-10-11 08:00", "--status", "contained")
    call_command("incident", "note", str(incident.pk), "Hébergeur prévenu")
    call_command("incident", "list")
    call_command("incident", "show", str(incident.pk))

    out = capsys.readouterr().out
    assert "10 octobre 2021 21:00:00 → 11 octobre 2021 08:00:00" in out
    assert "Catégories de données : Identité (nom, prénoms, date et lieu de naissance, NIR)" in out
    assert "Note — Hébergeur prévenu" in out
    assert [s.kind for s in incident.steps.all()] == [Step.Kind.OPENED, Step.Kind.UPDATED, Step.Kind.NOTE]
    assert list(Entry.objects.order_by("id").values_list("kind", "channel")) == [
        ("incident.opened", "command"),
        ("incident.updated", "command"),
        ("incident.noted", "command"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--start", "2021-10-11 08:00", "--end", "2021-10-10 21:00"],
            "La fin de la période concernée doit être après",
        ),
        (
            ["--start", "2021-10-11 08:00", "--end", "2021-10-11 08:00"],
            "La fin de la période concernée doit être après",
        ),
        (["--start", "10/10/2021 21h"], "Date non comprise : « 10/10/2021 21h »"),
        (["--start", "2099-01-01 00:00"], "ne peut pas être dans le futur"),
        (["--start", "2021-10-10 21:00", "--detected", "2099-01-01 00:00"], "ne peut pas être dans le futur"),
    ],
)
def test_bad_input_says_why_and_creates_nothing(arguments, message):
    with pytest.raises(CommandError, match=message):
        call_command(*OPEN, *arguments)
    assert not Incident.objects.exists() and not Entry.objects.exists()


@pytest.mark.django_db
def test_an_update_that_breaks_the_window_changes_nothing(incident):
    window = (incident.window_start, incident.window_end)
    with pytest.raises(CommandError, match=ENDS_BEFORE):
        call_command("incident", "update", str(incident.pk), "--end", "2021-10-10 20:00")
    incident.refresh_from_db()
    assert (incident.window_start, incident.window_end) == window
    assert not Entry.objects.filter(kind="incident.updated").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("action", [["show", "42"], ["update", "42", "--status", "closed"], ["note", "42", "x"]])
def test_an_unknown_incident_is_named(action):
    with pytest.raises(CommandError, match="Aucun incident n° 42"):
        call_command("incident", *action)


@pytest.mark.django_db
def test_an_update_with_nothing_to_change_says_so(incident):
    with pytest.raises(CommandError, match="Rien à modifier"):
        call_command("incident", "update", str(incident.pk))


@pytest.mark.django_db
def test_an_unknown_category_is_refused():
    with pytest.raises(CommandError, match="invalid choice"):
        call_command(*OPEN, "--start", "2021-10-10 21:00", "--category", "nope")
    assert not Incident.objects.exists()
