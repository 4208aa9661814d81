"""Named field comparisons for matching: each becomes a Splink comparison with its levels.

A contract names them per golden field (``comparisons: {last_name: {type: name}}``) and may set
``thresholds`` (string-similarity levels), ``prior`` (how often two records of the same entity
disagree on the field) and ``with`` (a second field compared together, e.g. country with city).

Every comparison ends in an "else" level whose m probability is fixed to ``prior`` rather than
estimated: on clean, well-separated data EM drives those values to zero and Splink stops, and a
fixed prior also caps how strongly one disagreeing field can veto a match. Splink is imported
when a model is built, never when contracts load.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dte_platform.sqlutil import ident

DEFAULT_PRIORS = {
    "name": 0.01,
    "email": 0.02,
    "exact": 0.005,
    "date": 0.005,
    "location": 0.01,
    "jaro_winkler": 0.01,
}


def _else(params: Mapping[str, Any], kind: str) -> Any:
    import splink.comparison_level_library as cll

    prior = float(params.get("prior", DEFAULT_PRIORS.get(kind, 0.01)))
    return cll.ElseLevel().configure(m_probability=prior, fix_m_probability=True)


def _custom(field: str, levels: list[Any]) -> Any:
    import splink.comparison_library as cl

    return cl.CustomComparison(output_column_name=field, comparison_levels=levels)


def _name(field: str, params: Mapping[str, Any]) -> Any:
    import splink.comparison_level_library as cll

    thresholds = params.get("thresholds") or (0.92, 0.80)
    levels = [cll.NullLevel(field), cll.ExactMatchLevel(field, term_frequency_adjustments=True)]
    levels += [cll.JaroWinklerLevel(field, t) for t in thresholds]
    return _custom(field, [*levels, _else(params, "name")])


def _jaro_winkler(field: str, params: Mapping[str, Any]) -> Any:
    import splink.comparison_level_library as cll

    thresholds = params.get("thresholds") or (0.9, 0.7)
    levels = [cll.NullLevel(field), cll.ExactMatchLevel(field)]
    levels += [cll.JaroWinklerLevel(field, t) for t in thresholds]
    return _custom(field, [*levels, _else(params, "jaro_winkler")])


def _email(field: str, params: Mapping[str, Any]) -> Any:
    """Same address; same user at another domain; same user ignoring . _ -; similar user."""
    import splink.comparison_level_library as cll

    user, core = f"{field}__user", f"{field}__core"
    threshold = (params.get("thresholds") or (0.88,))[0]
    return _custom(
        field,
        [
            cll.NullLevel(field),
            cll.ExactMatchLevel(field),
            cll.ExactMatchLevel(user, term_frequency_adjustments=True).configure(
                label_for_charts="same user, other domain"
            ),
            cll.ExactMatchLevel(core, term_frequency_adjustments=True).configure(
                label_for_charts="same user ignoring . _ -"
            ),
            cll.JaroWinklerLevel(user, threshold).configure(
                label_for_charts=f"user Jaro-Winkler >= {threshold}"
            ),
            _else(params, "email"),
        ],
    )


def _exact(field: str, params: Mapping[str, Any]) -> Any:
    import splink.comparison_level_library as cll

    return _custom(field, [cll.NullLevel(field), cll.ExactMatchLevel(field), _else(params, "exact")])


def _date(field: str, params: Mapping[str, Any]) -> Any:
    import splink.comparison_level_library as cll

    return _custom(field, [cll.NullLevel(field), cll.ExactMatchLevel(field), _else(params, "date")])


def _location(field: str, params: Mapping[str, Any]) -> Any:
    """The field and its ``with`` field (city and country): both equal; only the second equal."""
    import splink.comparison_level_library as cll

    other = params["with"][0]
    sides = [f"{_side(c, 'l')} IS NULL OR {_side(c, 'r')} IS NULL" for c in (field, other)]
    null = f"({sides[0]}) AND ({sides[1]})"
    return _custom(
        field,
        [
            cll.CustomLevel(null).configure(is_null_level=True),
            cll.And(cll.ExactMatchLevel(field), cll.ExactMatchLevel(other)),
            cll.ExactMatchLevel(other),
            _else(params, "location"),
        ],
    )


def _side(column: str, side: str) -> str:
    return ident(f"{column}_{side}")


COMPARISONS: dict[str, Callable[[str, Mapping[str, Any]], Any]] = {
    "name": _name,
    "email": _email,
    "exact": _exact,
    "date": _date,
    "jaro_winkler": _jaro_winkler,
    "location": _location,
}


def derived_columns(field: str, kind: str) -> dict[str, str]:
    """Extra match columns a comparison needs, as SQL over the field's match value."""
    if kind != "email":
        return {}
    value = ident(field)
    user = f"split_part({value}, '@', 1)"
    return {f"{field}__user": user, f"{field}__core": f"regexp_replace({user}, '[._\\-]', '', 'g')"}
