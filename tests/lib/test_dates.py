"""lib.dates: N years apart, with 29 February counted as Person.age_on counts ages."""

import datetime

import pytest

from moncompte.lib.dates import years_after, years_before
from tests.factories import PersonFactory

D = datetime.date


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [(D(2026, 12, 2), 15, D(2011, 12, 2)), (D(2024, 2, 29), 15, D(2009, 2, 28)), (D(2024, 2, 29), 4, D(2020, 2, 29))],
)
def test_years_before(day, years, expected):
    assert years_before(day, years) == expected


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [(D(2011, 12, 2), 15, D(2026, 12, 2)), (D(2008, 2, 29), 15, D(2023, 3, 1)), (D(2008, 2, 29), 16, D(2024, 2, 29))],
)
def test_years_after(day, years, expected):
    assert years_after(day, years) == expected


@pytest.mark.parametrize("day", [D(2023, 2, 28), D(2023, 3, 1), D(2024, 2, 28), D(2024, 2, 29), D(2024, 3, 1)])
def test_both_agree_with_the_age_a_person_is_given(day):
    """Whoever was born on years_before(day, 15) is 15 on that day; born on 29 February 2008, 15 from 1 March 2023."""
    born_leap = PersonFactory.build(birth_date=D(2008, 2, 29))
    assert PersonFactory.build(birth_date=years_before(day, 15)).age_on(day) == 15
    assert (born_leap.age_on(day) >= 15) == (day >= years_after(born_leap.birth_date, 15))
