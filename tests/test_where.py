"""The where-clause compiler: every operator, precedence, NULL logic and the error messages."""

from __future__ import annotations

import pytest

from imageservice.server.errors import UnableToComplete
from imageservice.server.where import compile_where

FIELDS = [
    {"name": "OBJECTID", "type": "esriFieldTypeOID"},
    {"name": "Shape", "type": "esriFieldTypeGeometry"},
    {"name": "Name", "type": "esriFieldTypeString"},
    {"name": "CloudCover", "type": "esriFieldTypeDouble"},
    {"name": "Month", "type": "esriFieldTypeInteger"},
    {"name": "AcquisitionDate", "type": "esriFieldTypeDate"},
]
JAN_5 = 1736035200000            # 2025-01-05T00:00:00Z
MAR_1_NOON = 1740830400000       # 2025-03-01T12:00:00Z
ROWS = [
    {"OBJECTID": 1, "Name": "Alpha_2025", "CloudCover": 0.0, "Month": 1, "AcquisitionDate": JAN_5},
    {"OBJECTID": 2, "Name": "beta's scene", "CloudCover": 12.5, "Month": 3, "AcquisitionDate": MAR_1_NOON},
    {"OBJECTID": 3, "Name": "Gamma_2024", "CloudCover": None, "Month": 7, "AcquisitionDate": None},
    {"OBJECTID": 4, "Name": None, "CloudCover": 55.0, "Month": 12, "AcquisitionDate": 1764547200000},
]


def matching(where: str | None) -> list[int]:
    predicate = compile_where(where, FIELDS)
    return [row["OBJECTID"] for row in ROWS if predicate(row)]


def error_of(where: str) -> str:
    with pytest.raises(UnableToComplete) as raised:
        compile_where(where, FIELDS)
    assert raised.value.message == "Unable to complete operation."
    return raised.value.details[0]


@pytest.mark.parametrize(("where", "expected"), [
    (None, [1, 2, 3, 4]),
    ("", [1, 2, 3, 4]),
    ("  ", [1, 2, 3, 4]),
    ("1=1", [1, 2, 3, 4]),
    ("1=0", []),
    ("CloudCover = 12.5", [2]),
    ("CloudCover <> 12.5", [1, 4]),
    ("CloudCover != 12.5", [1, 4]),
    ("CloudCover < 12.5", [1]),
    ("CloudCover <= 12.5", [1, 2]),
    ("CloudCover > 12.5", [4]),
    ("CloudCover >= 12.5", [2, 4]),
    ("Month > -1", [1, 2, 3, 4]),
    ("Month = +3", [2]),
    ("CloudCover < 1e2", [1, 2, 4]),
    ("CloudCover > .5", [2, 4]),
    ("12.5 = CloudCover", [2]),
    ("Name = 'Alpha_2025'", [1]),
    ("Name = 'beta''s scene'", [2]),
    ("Name > 'C'", [2, 3]),                       # code-point order: 'b' and 'G' sort after 'C', 'A' before
])
def test_comparisons(where: str | None, expected: list[int]) -> None:
    assert matching(where) == expected


@pytest.mark.parametrize(("where", "expected"), [
    ("Month IN (1, 7)", [1, 3]),
    ("Month NOT IN (1, 7)", [2, 4]),
    ("Name IN ('Gamma_2024', 'nothing')", [3]),
    ("CloudCover IN (0, NULL)", [1]),
    ("CloudCover NOT IN (0, NULL)", []),          # NULL in the list makes "not in" unknown
    ("Month BETWEEN 3 AND 7", [2, 3]),
    ("Month NOT BETWEEN 3 AND 7", [1, 4]),
    ("CloudCover BETWEEN 0 AND 12.5", [1, 2]),
    ("Name LIKE 'Alpha%'", [1]),
    ("Name LIKE '%_2024'", [3]),
    ("Name LIKE '_amma%'", [3]),
    ("Name LIKE 'alpha%'", []),                   # LIKE is case-sensitive, as in SQL-92
    ("Name LIKE '%''%'", [2]),
    ("Name LIKE 'a.c'", []),                      # regex characters are literal
    ("Name NOT LIKE '%2025'", [2, 3]),
    ("UPPER(Name) LIKE 'ALPHA%'", [1]),
    ("LOWER(Name) = 'gamma_2024'", [3]),
    ("CloudCover IS NULL", [3]),
    ("CloudCover IS NOT NULL", [1, 2, 4]),
    ("Name IS NULL OR AcquisitionDate IS NULL", [3, 4]),
])
def test_list_range_pattern_and_null_predicates(where: str, expected: list[int]) -> None:
    assert matching(where) == expected


@pytest.mark.parametrize(("where", "expected"), [
    ("AcquisitionDate = date '2025-01-05'", [1]),
    ("AcquisitionDate > date '2025-01-05'", [2, 4]),
    ("AcquisitionDate = timestamp '2025-03-01 12:00:00'", [2]),
    ("AcquisitionDate < TIMESTAMP '2025-03-01 11:59:59'", [1]),
    ("AcquisitionDate BETWEEN date '2025-01-01' AND date '2025-06-30'", [1, 2]),
    ("AcquisitionDate >= '2025-03-01 12:00:00'", [2, 4]),      # a text literal next to a date field is a date
    ("AcquisitionDate IN ('2025/01/05', date '2025-12-01')", [1, 4]),
    ("AcquisitionDate < 1736035200001", [1]),                  # or epoch milliseconds
    ("acquisitiondate < DATE '2025-01-06'", [1]),
])
def test_dates(where: str, expected: list[int]) -> None:
    assert matching(where) == expected


@pytest.mark.parametrize(("where", "expected"), [
    ("Month = 1 OR Month = 3 AND CloudCover > 50", [1]),        # AND binds tighter than OR
    ("(Month = 1 OR Month = 3) AND CloudCover > 5", [2]),
    ("NOT Month = 1 AND Month < 10", [2, 3]),                   # NOT binds tighter than AND
    ("NOT (Month = 1 AND Month < 10)", [2, 3, 4]),
    ("NOT NOT Month = 1", [1]),
    ("Month = 1 or month = 12 AND name IS NULL", [1, 4]),
    ("((Month = 7))", [3]),
    ("CloudCover > 5 OR CloudCover <= 5", [1, 2, 4]),           # NULL is neither
    ("NOT CloudCover > 5", [1]),                                # NOT unknown stays unknown
    ("CloudCover > 5 OR Month = 7", [2, 3, 4]),                 # unknown OR true is true
    ("CloudCover > 5 AND Month = 7", []),                       # unknown AND true is unknown
    ("NOT (CloudCover > 5 AND Month = 12)", [1, 2, 3]),         # unknown AND false is false
    ('"CloudCover" = 0 and "name" like \'A%\'', [1]),
    ("objectid in (2, 4) And Not cloudcover > 50", [2]),
])
def test_precedence_case_and_three_valued_logic(where: str, expected: list[int]) -> None:
    assert matching(where) == expected


@pytest.mark.parametrize(("where", "detail"), [
    ("Foo = 1", "unknown field 'Foo' at position 0."),
    ("Month = 1 AND bar > 2", "unknown field 'bar' at position 14."),
    ("Shape = 1", "field 'Shape' cannot be used in a where clause."),
    ("Month =", "expected a field name or a value but found the end of the clause at position 7."),
    ("Month 1", "expected a comparison operator (=, <>, <, <=, >, >=), IN, BETWEEN, LIKE or IS "
                "but found '1' at position 6."),
    ("Month = 1 AND", "expected a field name or a value but found the end of the clause at position 13."),
    ("Month = 1 Month = 2", "expected AND, OR or the end of the clause but found 'Month' at position 10."),
    ("(Month = 1", "expected ')' but found the end of the clause at position 10."),
    ("Month = 1)", "expected AND, OR or the end of the clause but found ')' at position 9."),
    ("Month IN 1, 2", "expected '(' but found '1' at position 9."),
    ("Month IN (1, 2", "expected ')' but found the end of the clause at position 14."),
    ("Month BETWEEN 1 OR 2", "expected AND in BETWEEN but found 'OR' at position 16."),
    ("Name LIKE Name", "expected a 'pattern' after LIKE but found 'Name' at position 10."),
    ("Month LIKE '1%'", "LIKE needs a text field or value, near position 11."),
    ("Month NOT = 1", "expected IN, BETWEEN or LIKE after NOT but found '=' at position 10."),
    ("Month IS 1", "expected NULL after IS but found '1' at position 9."),
    ("Name = 3", "cannot compare a string with a number."),
    ("Month = 'three'", "cannot compare a number with a string."),
    ("Month IN (1, 'x')", "cannot compare a number with a string."),
    ("AcquisitionDate = Name", "cannot compare a date with a string."),
    ("AcquisitionDate > 'yesterday'", "'yesterday' is not a date (expected 'YYYY-MM-DD' or 'YYYY-MM-DD hh:mm:ss')."),
    ("AcquisitionDate > date '2025-02-30'", "'2025-02-30' is not a valid date."),
    ("UPPER(Month) = 'A'", "UPPER() needs a text value, near position 0."),
    ("Name = 'open", "unterminated string starting at position 7."),
    ("Month = 1; DROP TABLE x", "unexpected character ';' at position 9."),
    ("__import__('os')", "unknown field '__import__' at position 0."),
    ("Month = - Month", "expected a field name or a value but found '-' at position 8."),
    ("AND = 1", "expected a field name or a value but found 'AND' at position 0."),
    ("Month", "expected a comparison operator (=, <>, <, <=, >, >=), IN, BETWEEN, LIKE or IS "
              "but found the end of the clause at position 5."),
])
def test_errors_say_what_is_wrong(where: str, detail: str) -> None:
    assert error_of(where) == "Invalid 'where' clause: " + detail
