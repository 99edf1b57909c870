"""lib.text: how names, password words and place names are folded for comparison."""

import pytest

from moncompte.lib.text import fold, without_accents


@pytest.mark.parametrize("typed", ["Léa-Marie", "LEA MARIE", "lea marie", "Léa Marie ", "LÉA-MARIE"])
def test_names_fold_alike_whatever_the_case_accents_spaces_and_hyphens(typed):
    assert fold(typed) == "leamarie"


def test_without_accents_keeps_every_other_character():
    assert without_accents("Noël d'Été-N°1") == "noel d'ete-n°1"
    assert fold("Noël d'Été-N°1") == "noeldeten1"
