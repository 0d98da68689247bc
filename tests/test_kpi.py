"""The KPI card as data: the shipped card loads, a broken card reports every problem at once."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from cdd_scorer.kpi import KpiSetError, build_kpi_set, default_kpi_set_path


@pytest.fixture()
def raw_card() -> dict:
    return tomllib.loads(default_kpi_set_path().read_text(encoding="utf-8"))


def test_shipped_card_has_both_scorecards_and_ten_kpis(kpi_set):
    assert [sc.id for sc in kpi_set.scorecards] == ["team", "individual"]
    assert [k.id for k in kpi_set.kpis] == ["T1", "T2", "T3", "I1", "I2", "I3", "I4", "I5", "I6", "I7"]
    for sc in kpi_set.scorecards:
        assert sum(k.weight for k in sc.kpis) == 100
    assert kpi_set.scorecard_weights == {"team": 50.0, "individual": 50.0}


def test_thai_texts_come_verbatim_from_the_card(kpi_set):
    # tests/data holds a copy of the original card (shared/seed), so this runs on every machine.
    seed = Path(__file__).parent / "data" / "seed_kpi_card_fy2565.txt"
    text = " ".join(seed.read_text(encoding="utf-8").split())
    for kpi in kpi_set.kpis:
        assert " ".join(kpi.title_th.split()) in text, kpi.id
        for lv in kpi.levels:
            assert " ".join(lv.text_th.split()) in text, (kpi.id, lv.number)


def test_every_field_of_spec_section_3_is_defined(kpi_set):
    ids = {f.id for f in kpi_set.fields}
    for expected in ("t1_budget_allocated", "t3_evidence_sent_date", "i1_lao_qc_date", "i6_award_received",
                     "i7_activities_done", "t1_note", "i7_note", "reporter_name", "report_date"):
        assert expected in ids
    assert len(ids) == len(kpi_set.fields)


def test_fingerprint_changes_with_a_threshold_but_not_with_formatting(raw_card):
    base = build_kpi_set(raw_card)
    changed = copy.deepcopy(raw_card)
    changed["kpis"][0]["levels"][0]["when"]["value"] = 81
    assert build_kpi_set(changed).fingerprint != base.fingerprint
    assert build_kpi_set(copy.deepcopy(raw_card)).fingerprint == base.fingerprint


def test_broken_card_lists_every_problem_at_once(raw_card):
    raw = copy.deepcopy(raw_card)
    raw["kpis"][0]["weight"] = 45  # team weights no longer sum to 100
    raw["kpis"][1]["levels"][2]["when"]["value"] = 70  # T2 thresholds no longer increase
    raw["kpis"][2]["levels"][0]["when"]["field"] = "no_such_field"
    raw["kpis"][3]["id"] = "T1"  # duplicate id
    raw["kpis"][4]["result"] = "i2_households_helped / i2_households_target * __import__('os')"
    with pytest.raises(KpiSetError) as err:
        build_kpi_set(raw)
    text = "\n".join(err.value.problems)
    assert "weights sum to 105" in text
    assert "thresholds must increase strictly" in text
    assert "no_such_field" in text
    assert "KPI id 'T1' is used more than once" in text
    assert "result" in text and "not allowed" in text
    assert len(err.value.problems) >= 5


def test_card_needs_five_levels_and_known_rule(raw_card):
    raw = copy.deepcopy(raw_card)
    raw["kpis"][0]["levels"] = raw["kpis"][0]["levels"][:4]
    raw["kpis"][1]["rule"] = "best-of"
    with pytest.raises(KpiSetError) as err:
        build_kpi_set(raw)
    assert any("exactly 5 levels" in p for p in err.value.problems)
    assert any("rule must be" in p for p in err.value.problems)
