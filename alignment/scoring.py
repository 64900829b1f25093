"""Executable lead scoring (SPEC §6), pure Python: rules over a lead's fields and attributes.

A rule reads one value of the lead by a **path** and compares it with the rule's value:

* A path of one part that names a lead field (``email``, ``name``, ``company``, ``segment``,
  ``campaign`` — the campaign's external id — ``channel`` — the campaign's channel) reads
  that field.
* ``attributes.a.b`` reads ``lead.attributes["a"]["b"]``; any other path is read in the
  attributes as well, so ``company.size`` means ``attributes["company"]["size"]`` (the
  ``company`` field itself is a plain string with no parts).

Operators (``value`` is the rule's value):

* ``equals``: the same value; text compares case-insensitively, numbers numerically
  (``"50"`` equals ``50``); a list matches when one of its items equals.
* ``contains``: text contains the value (case-insensitive), or a list holds an item equal to it.
* ``in``: the value is a list; matches when the lead's value equals one of its items (a list
  matches when any item does).
* ``gte`` / ``lte``: numeric ≥ / ≤; a value that is not a number never matches.
* ``exists``: ``value`` true (the default) matches a value that is present and not empty
  (``None``, ``""``, ``[]``, ``{}``); ``false`` matches a missing or empty one.

A lead's score is the sum of the points of the rules it matches; it is an MQL when the score
reaches the definition's threshold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "LEAD_FIELDS",
    "OPERATORS",
    "MatchedRule",
    "Rule",
    "Score",
    "resolve",
    "rule_errors",
    "rule_words",
    "score",
]

OPERATORS = ("equals", "contains", "in", "gte", "lte", "exists")
LEAD_FIELDS = ("email", "name", "company", "segment", "campaign", "channel")
MAX_POINTS = 10_000
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Rule:
    field: str
    operator: str
    value: Any
    points: int


@dataclass(frozen=True, slots=True)
class MatchedRule:
    rule: Rule
    actual: Any

    def as_dict(self) -> dict[str, Any]:
        """The JSON kept on a handoff so that a rep sees why the lead is an MQL."""
        return {
            "field": self.rule.field,
            "operator": self.rule.operator,
            "value": self.rule.value,
            "points": self.rule.points,
            "actual": _jsonable(self.actual),
        }


@dataclass(frozen=True, slots=True)
class Score:
    points: int
    matched: tuple[MatchedRule, ...]

    def reaches(self, threshold: int) -> bool:
        return self.points >= threshold


def rule_errors(field: str, operator: str, value: Any, points: Any) -> dict[str, str]:
    """What is wrong with a rule, by attribute (empty when it is valid)."""
    errors: dict[str, str] = {}
    parts = field.split(".") if isinstance(field, str) else []
    if not parts or not all(p.strip() for p in parts):
        errors["field"] = "Name a lead field or an attribute path such as company.size."
    elif parts == ["attributes"]:
        errors["field"] = "Name an attribute inside attributes, e.g. attributes.company.size."
    if operator not in OPERATORS:
        errors["operator"] = f"Use one of {', '.join(OPERATORS)}."
    elif operator == "in":
        if not isinstance(value, list) or not value or not all(map(_is_scalar, value)):
            errors["value"] = "`in` needs a non-empty list of texts or numbers."
    elif operator in {"gte", "lte"}:
        if _number(value) is None:
            errors["value"] = f"`{operator}` needs a number."
    elif operator == "exists":
        if value is not None and not isinstance(value, bool):
            errors["value"] = "`exists` takes true, false or nothing."
    elif not _is_scalar(value) or value is None or value == "":
        errors["value"] = f"`{operator}` needs a text, a number or a boolean."
    if isinstance(points, bool) or not isinstance(points, int):
        errors["points"] = "Points are a whole number."
    elif not -MAX_POINTS <= points <= MAX_POINTS:
        errors["points"] = f"Points are between -{MAX_POINTS} and {MAX_POINTS}."
    return errors


def resolve(path: str, lead: Mapping[str, Any]) -> Any:
    """The lead's value at ``path``, or the module's ``_MISSING`` sentinel."""
    parts = path.split(".")
    if len(parts) == 1 and parts[0] in LEAD_FIELDS:
        return lead.get(parts[0], _MISSING)
    if parts[0] == "attributes":
        parts = parts[1:]
    current: Any = lead.get("attributes") or {}
    for part in parts:
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            return _MISSING
    return current


def score(rules: Iterable[Rule], lead: Mapping[str, Any]) -> Score:
    """Sum the points of the rules the lead matches."""
    matched = []
    for rule in rules:
        actual = resolve(rule.field, lead)
        if _matches(rule, actual):
            matched.append(MatchedRule(rule, None if actual is _MISSING else actual))
    return Score(points=sum(m.rule.points for m in matched), matched=tuple(matched))


# --- in words -------------------------------------------------------------------------------

_OPERATOR_WORDS = {
    "equals": "is",
    "contains": "contains",
    "in": "is one of",
    "gte": "≥",
    "lte": "≤",
}
_MINUS = "−"


def rule_words(rule: Mapping[str, Any]) -> str:
    """A scoring rule in words, with the lead's value when it says more than the rule and the
    points: 'Segment is enterprise: +30', 'Employees ≥ 200 (has 250): +20',
    'Phone is set: +5', 'Channel is one of webinar, event: +25'.

    `rule` is a rule as a dict (field, operator, value, points), as a handoff keeps its matched
    rules (with `actual`, the lead's value) or as the editor holds one; `label`, when given,
    replaces the words of the condition. Pure: the inbox cards and the agreements pages read
    the same words.
    """
    if rule.get("label"):
        text = str(rule["label"])
    else:
        field = str(rule.get("field") or "").removeprefix("attributes.")
        field = field.replace(".", " ").replace("_", " ").strip()
        field = field[:1].upper() + field[1:]
        operator = str(rule.get("operator") or "")
        value = rule.get("value")
        if operator == "exists":
            condition = "is not set" if value is False else "is set"
        else:
            condition = f"{_OPERATOR_WORDS.get(operator, operator)} {_value_words(value)}".strip()
        text = f"{field} {condition}".strip()
        actual = rule.get("actual")
        if (
            operator != "exists"
            and actual not in (None, "", [])
            and _value_words(actual).casefold() != _value_words(value).casefold()
        ):
            text += f" (has {_value_words(actual)})"
    points = rule.get("points")
    if isinstance(points, bool) or not isinstance(points, int | float):
        return text
    sign = "+" if points >= 0 else _MINUS
    return f"{text}: {sign}{_value_words(abs(points))}"


def _value_words(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, list | tuple):
        return ", ".join(_value_words(v) for v in value)
    return "" if value is None else str(value)


# --- comparison -----------------------------------------------------------------------------


def _matches(rule: Rule, actual: Any) -> bool:
    op, expected = rule.operator, rule.value
    if op == "exists":
        present = (
            actual is not _MISSING and actual not in (None, "") and actual != [] and actual != {}
        )
        return present if expected is None or expected else not present
    if actual is _MISSING or actual is None:
        return False
    if op == "equals":
        return _any(actual, lambda item: _equal(item, expected))
    if op == "contains":
        if isinstance(actual, str):
            return isinstance(expected, str | int | float) and str(expected).casefold() in (
                actual.casefold()
            )
        return isinstance(actual, list) and any(_equal(item, expected) for item in actual)
    if op == "in":
        return _any(actual, lambda item: any(_equal(item, e) for e in expected))
    if op in {"gte", "lte"}:
        number, bound = _number(actual), _number(expected)
        if number is None or bound is None:
            return False
        return number >= bound if op == "gte" else number <= bound
    return False


def _any(actual: Any, test: Any) -> bool:
    if isinstance(actual, list):
        return any(test(item) for item in actual)
    return test(actual)


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    left, right = _number(actual), _number(expected)
    if left is not None and right is not None:
        return left == right
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.strip().casefold() == expected.strip().casefold()
    return False


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_jsonable(v) for v in value]
    return value
