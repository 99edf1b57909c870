"""Issue 12, item 1: one switch closes every channel. While closed, every page answers the French maintenance page
with HTTP 503 and Retry-After, and the security team still reaches the admin; reopening ends it. Both are journaled
and on the incident's timeline; closing twice or reopening an open service says so and changes nothing."""

import pytest
from django.core.management import CommandError, call_command

from moncompte.incidents import services, switch
from moncompte.incidents.models import Closure, Step
from moncompte.journal.models import Entry
from tests.helpers import page_text

PAGES = ["/", "/connexion/", "/mon-espace/", "/demarches/", "/faire-une-demande/", "/mot-de-passe-oublie/"]


def close(reason: str = "Accès croisés aux dossiers", *extra: str) -> None:
    call_command("incident", "close", "--reason", reason, *extra)


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_while_closed_every_page_answers_the_maintenance_page(client, path, settings):
    close()

    response = client.get(path)

    assert response.status_code == 503
    assert response["Retry-After"] == str(settings.INCIDENT_RETRY_AFTER_SECONDS)
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    text = page_text(response)
    assert "Mon Compte est momentanément fermé" in text
    assert "Accès croisés" not in text  # the reason is the team's, not the public's
    assert 'lang="fr"' in response.content.decode()
    assert not response.cookies  # no session, no CSRF cookie: nothing is done for a closed service


@pytest.mark.django_db
def test_a_form_sent_while_closed_changes_nothing(client, migrated):
    close()
    before = Entry.objects.count()

    response = client.post("/connexion/", {"identifier": migrated.person.nir, "password": migrated.raw_password})

    assert response.status_code == 503
    assert Entry.objects.count() == before


@pytest.mark.django_db
def test_a_signed_in_person_is_closed_out_too(holder):
    close()
    assert holder.get("/mon-espace/").status_code == 503


@pytest.mark.django_db
def test_the_security_team_still_reaches_the_admin(security_team):
    close()
    assert security_team.get("/admin/incidents/incident/").status_code == 200
    assert security_team.get("/admin/login/").status_code in (200, 302)


@pytest.mark.django_db
def test_reopening_serves_the_pages_again(client):
    close()
    assert client.get("/connexion/").status_code == 503

    call_command("incident", "reopen")

    assert client.get("/connexion/").status_code == 200
    closure = Closure.objects.get()
    assert closure.reopened_at is not None and closure.current is None
    assert [e.kind for e in Entry.objects.order_by("id")] == ["site.closed", "site.reopened"]
    assert {e.channel for e in Entry.objects.all()} == {"command"}


@pytest.mark.django_db
def test_closing_twice_says_so_and_keeps_the_first_closure(capsys):
    close("premier motif")
    with pytest.raises(CommandError, match="déjà fermé depuis le"):
        close("second motif")
    assert list(Closure.objects.values_list("reason", flat=True)) == ["premier motif"]
    assert Entry.objects.filter(kind="site.closed").count() == 1


@pytest.mark.django_db
def test_reopening_an_open_service_says_so():
    with pytest.raises(CommandError, match="n'est pas fermé"):
        call_command("incident", "reopen")
    assert not Entry.objects.exists()


@pytest.mark.django_db
def test_a_closure_without_a_reason_is_refused():
    with pytest.raises(CommandError, match="motif"):
        close("   ")
    assert switch.closed() is None and not Closure.objects.exists()


@pytest.mark.django_db
def test_a_closure_for_an_incident_is_on_its_timeline(incident, capsys):
    close("Fermeture décidée à 8 h", "--incident", str(incident.pk))
    call_command("incident", "reopen", "--note", "Correctif déployé")

    steps = list(incident.steps.values_list("kind", "text"))
    assert steps[-2:] == [(Step.Kind.CLOSED, "Fermeture décidée à 8 h"), (Step.Kind.REOPENED, "Correctif déployé")]
    call_command("incident", "show", str(incident.pk))
    shown = capsys.readouterr().out
    assert "Fermeture de tous les canaux — Fermeture décidée à 8 h" in shown
    assert "Réouverture de tous les canaux — Correctif déployé" in shown


@pytest.mark.django_db
def test_closing_for_an_unknown_incident_changes_nothing():
    with pytest.raises(CommandError, match="Aucun incident n° 999"):
        close("motif", "--incident", "999")
    assert not Closure.objects.exists()


@pytest.mark.django_db
def test_the_status_command_tells_whether_the_service_is_closed(capsys):
    call_command("incident", "status")
    close("motif")
    call_command("incident", "status")
    out = capsys.readouterr().out
    assert "Le service est ouvert." in out and "Le service est fermé depuis le" in out


@pytest.mark.django_db
def test_the_database_refuses_a_second_open_closure():
    services.service_close(reason="un", actor="test")
    with pytest.raises(Exception):  # noqa: B017 (the database's own IntegrityError, whatever the engine)
        Closure.objects.create(reason="deux")
