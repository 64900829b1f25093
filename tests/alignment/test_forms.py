"""How the Agreements forms read what a person types into the values the services take."""

from __future__ import annotations

import pytest

from alignment.forms import RuleForm, rule_value


@pytest.mark.parametrize(
    ("operator", "text", "value"),
    [
        ("in", "DE, AT ,CH,", ["DE", "AT", "CH"]),
        ("in", "10, 20", [10, 20]),
        ("gte", "200", 200),
        ("lte", "2.5", 2.5),
        ("gte", "many", "many"),  # left for scoring.rule_errors to name
        ("exists", "", None),
        ("exists", "false", False),
        ("exists", "True", True),
        ("equals", "enterprise", "enterprise"),
        ("equals", "50", 50),
        ("equals", "true", True),
    ],
)
def test_a_typed_value_becomes_the_rules_value(operator: str, text: str, value: object) -> None:
    assert rule_value(operator, text) == value


def test_a_rule_row_shows_the_scoring_errors_on_its_fields() -> None:
    form = RuleForm({"field": "company.size", "operator": "gte", "value": "big", "points": "5"})
    assert not form.is_valid()
    assert form.errors["value"] == ["`gte` needs a number."]


def test_an_empty_row_is_no_rule_and_no_error() -> None:
    form = RuleForm({"field": "", "operator": "equals", "value": "", "points": ""})
    assert form.is_valid() and form.is_blank()


def test_a_value_shown_unchanged_keeps_its_stored_form() -> None:
    initial = {"field": "code", "operator": "equals", "value": "50", "points": 5}
    form = RuleForm(
        {"field": "code", "operator": "equals", "value": "50", "points": "5"},
        initial={**initial, "stored_value": "50"},  # stored as text, not as the number 50
    )
    assert form.is_valid()
    assert form.rule()["value"] == "50"


def test_a_number_too_large_for_a_rule_stays_text_for_the_check_to_name() -> None:
    from alignment.forms import rule_value

    assert rule_value("gte", "1" * 400 + ".5") == "1" * 400 + ".5"
    assert rule_value("gte", "10" + "0" * 20) == "10" + "0" * 20
    assert rule_value("gte", "250") == 250
