"""The problem catalogue: every entry renders with the parameters it declares, and a problem made
without one of them, or with a code the catalogue does not know, is refused when it is made."""

from __future__ import annotations

import pytest

from cdd_scorer.problems import CATALOGUE, Problem, count_by_severity

LOCATION = ("file", "value", "field")


def _complete(code: str) -> Problem:
    names = CATALOGUE[code].placeholders
    return Problem(code, file="<file>", value="<value>", field="<field>",
                   params={n: f"<{n}>" for n in names if n not in LOCATION})


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_catalogue_entry_renders_every_parameter_it_declares(code):
    problem = _complete(code)
    texts = [problem.message_th, problem.message_en, problem.action_th, problem.action_en,
             problem.district_action_th, problem.district_action_en]
    assert all(texts) or (code == "attachment_saved" and all(texts[:2]))  # a note that asks nothing
    rendered = " ".join(texts)
    assert "{" not in rendered and "}" not in rendered
    assert {n for n in CATALOGUE[code].placeholders if f"<{n}>" not in rendered} == set()


def test_a_problem_missing_a_parameter_of_its_message_is_refused_when_made():
    with pytest.raises(ValueError, match="other_label, other_label_en, other_value, value"):
        Problem("part_exceeds_whole", field="x")


def test_an_english_label_falls_back_to_the_thai_one():
    problem = Problem("part_exceeds_whole", field="x", value="5",
                      params={"label": "ก", "other_label": "ข", "other_value": "4"})
    assert problem.message_en == "ก (5) is more than ข (4)"


def test_a_misspelt_code_is_refused_when_made():
    with pytest.raises(ValueError, match="duplicate_conflct"):
        Problem("duplicate_conflct")


def test_counts_by_severity_name_every_severity_once_from_any_iterable():
    problems = (p for p in [_complete("lock_file"), _complete("empty_file"), _complete("empty_file")])
    assert count_by_severity(problems) == {"error": 2, "warning": 0, "info": 1}
