"""The reference dataset (`partners.dataset`, `manage.py partners_dataset`): deterministic, and consistent with the
demo data `generate_demo_data --import` loads, so that what the simulator says matches who is in the database."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from moncompte.households.models import Case, Role
from moncompte.identity.models import Person
from moncompte.identity.nir import nir_grouped, parse_nir
from moncompte.legacy.demo import build_demo_cases, write_demo_csv
from moncompte.partners import connectors
from moncompte.partners.dataset import FAMILY_ALLOWANCES, NEW_APPLICANTS, build_dataset, new_applicants, shares
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(tmp_path):
    """The demo households of `generate_demo_data`, imported through the legacy import (as `make run` does)."""
    cases = build_demo_cases()
    call_command("import_legacy", str(write_demo_csv(cases, tmp_path / "demo.csv")), workers=1, stdout=StringIO())
    return cases


def test_every_demo_nir_is_in_the_registry_with_its_civil_status(demo):
    dataset = build_dataset()
    demo_people = [person for case in demo for person in case.members if person.has_nir]
    assert demo_people and all(person.nir in dataset["people"] for person in demo_people)
    for person in demo_people:
        assert dataset["people"][person.nir]["etat_civil"] == {
            "nom_naissance": person.birth_name,
            "prenoms": person.given_names,
            "date_naissance": person.birth_date.isoformat(),
            "sexe": person.sex,
            "commune_naissance": person.birthplace,
            "pays_naissance": person.birth_country,
        }
    assert set(dataset["cases"]) == {case.number for case in demo}
    without_nir = Person.objects.filter(nir__isnull=True)
    assert without_nir.exists() and not set(without_nir.values_list("provisional_id", flat=True)) & set(
        dataset["people"]
    )


def test_the_simulator_confirms_every_demo_identity(demo, partners, settings):
    settings.PARTNER_TIMEOUT_SECONDS = 2  # dozens of real calls that check data, not timing: a loaded machine is slow
    partners.push(build_dataset(documents=False))
    for person in (person for case in demo for person in case.members if person.has_nir):
        answer = connectors.registry_check(
            nir=person.nir,
            birth_name=person.birth_name.upper(),  # as typed on a form: case does not matter
            given_names=person.given_names,
            birth_date=person.birth_date,
            sex=person.sex,
            birthplace=person.birthplace,
            birth_country=person.birth_country,
        )
        assert answer.data is True, person.display_name


def test_the_dataset_is_the_same_for_the_same_database_and_day(demo):
    today = timezone.localdate()
    first = build_dataset(today=today)
    assert json.dumps(first, sort_keys=True) == json.dumps(build_dataset(today=today), sort_keys=True)
    tomorrow = build_dataset(today=today + timedelta(days=1), documents=False)
    assert tomorrow["people"].keys() == first["people"].keys()


def test_cases_have_payments_letters_and_requests_consistent_with_the_household(demo):
    today = timezone.localdate()
    dataset = build_dataset(today=today)
    some_payments = 0
    for case in Case.objects.prefetch_related("memberships__person"):
        record = dataset["cases"][case.case_number]
        paid_on = {payment["date"] for payment in record["paiements"]}
        assert all(date.fromisoformat(day).day == 5 for day in paid_on) and len(paid_on) in (0, 24)
        assert all(today - timedelta(days=731) < date.fromisoformat(day) <= today for day in paid_on)
        some_payments += bool(paid_on)
        children = [m.person for m in case.memberships.all() if m.role == Role.CHILD]
        young = [child for child in children if child.age_on(today.replace(day=1) - timedelta(days=1)) < 20]
        family = [payment for payment in record["paiements"] if payment["prestation"] == FAMILY_ALLOWANCES]
        if len(young) < 2:
            assert not family
        elif len(young) == len(children):
            assert len(family) >= 1
        for payment in record["paiements"]:
            start, end = date.fromisoformat(payment["debut_periode"]), date.fromisoformat(payment["fin_periode"])
            assert start.day == 1 and end < date.fromisoformat(payment["date"]) and Decimal(payment["montant"]) > 0
        assert 2 <= len(record["courriers"]) <= 4 and len(record["demandes"]) <= 2
        assert len({letter["id"] for letter in record["courriers"]}) == len(record["courriers"])
        for letter in record["courriers"]:
            assert base64.b64decode(letter["pdf"]).startswith(b"%PDF-")
        assert {request["attendu"] for request in record["demandes"]} <= {"document", "texte", "les_deux"}
    assert some_payments >= len(demo) // 2


def test_couples_share_one_tax_notice_and_children_have_none(demo):
    dataset = build_dataset()
    couples = 0
    for case in Case.objects.prefetch_related("memberships__person"):
        roles = {m.role: m.person for m in case.memberships.all()}
        holder, partner = roles[Role.HOLDER], roles.get(Role.PARTNER)
        if partner is not None and partner.nir:
            couples += 1
            assert dataset["people"][holder.nir]["avis"] == dataset["people"][partner.nir]["avis"]
        for membership in case.memberships.filter(role=Role.CHILD, person__nir__isnull=False):
            assert not any(dataset["people"][membership.person.nir]["avis"].values())
    assert couples >= 5
    years = {year for person in dataset["people"].values() for year in person["avis"]}
    last = connectors.last_income_year()
    assert years == {str(last - 2), str(last - 1), str(last)}
    notices = [notice for person in dataset["people"].values() for notice in person["avis"].values() if notice]
    assert notices and all(Decimal(notice["nombre_parts"]) >= 1 for notice in notices)


def test_the_number_of_shares_follows_the_household():
    assert shares(False, 0) == 1 and shares(True, 0) == 2
    assert shares(True, 2) == 3 and shares(True, 3) == 4
    assert shares(False, 1) == 2  # a single parent: ½ for the child, ½ more


def test_some_adults_are_registered_at_france_travail_with_an_allowance(demo):
    situations = [person["france_travail"] for person in build_dataset()["people"].values()]
    registered = [situation for situation in situations if situation["inscrit"]]
    assert 0 < len(registered) < len(situations) / 2
    assert any(allowance["code"] == "ARE" for situation in registered for allowance in situation["allocations"])


def test_new_applicants_are_known_to_the_registry_only_with_valid_nirs(demo):
    dataset = build_dataset()
    applicants = dataset["new_applicants"]
    assert len(applicants) == NEW_APPLICANTS
    assert not Person.objects.filter(nir__in=applicants).exists()
    by_nir = {applicant.nir: applicant for applicant in new_applicants()}
    assert list(by_nir) == applicants  # the same whatever the day
    for nir in applicants:
        assert parse_nir(by_nir[nir].nir_with_key).value == nir  # a valid key, birth data consistent
        status = dataset["people"][nir]["etat_civil"]
        assert status["nom_naissance"] and status["prenoms"]
        assert parse_nir(nir).year == status["date_naissance"][2:4]
    assert any(dataset["people"][nir]["etat_civil"]["commune_naissance"] == "" for nir in applicants)


def test_new_applicants_never_take_a_nir_of_the_database():
    first = new_applicants()[0]
    PersonFactory(nir=first.nir)
    applicants = build_dataset(documents=False)["new_applicants"]
    assert first.nir not in applicants and len(applicants) == NEW_APPLICANTS


def test_the_command_writes_the_dataset_and_prints_the_new_applicants(demo, settings, tmp_path):
    settings.DEBUG = True
    out = StringIO()
    path = tmp_path / "var" / "partners.json"
    call_command("partners_dataset", str(path), stdout=out)
    dataset = json.loads(path.read_text())
    assert set(dataset["cases"]) == {case.number for case in demo}
    assert path.stat().st_mode & 0o777 == 0o600
    printed = out.getvalue()
    for applicant in new_applicants():
        assert nir_grouped(applicant.nir_with_key) in printed and applicant.birth_name in printed


def test_the_command_refuses_to_run_outside_development(settings, tmp_path):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="développement"):
        call_command("partners_dataset", str(tmp_path / "partners.json"), stdout=StringIO())
    assert not (tmp_path / "partners.json").exists()
