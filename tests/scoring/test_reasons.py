"""Reason wording: every feature a model may cite reads as words, not as a column name."""

from __future__ import annotations

import pytest

from features.catalogue import feature_catalogue
from scoring.reasons import _FAMILY_RE, _NAME, describe

SAMPLES = {"int64": 2, "float64": 0.42, "boolean": True, "string": "Medium"}


def _fallbacks(name: str, value: object) -> set[str]:
    """What :func:`describe` prints for a feature it has no words for."""
    out = {f"{name.replace('_', ' ')}: {value}"}
    m = _FAMILY_RE.match(name)
    if m:
        out.add(f"{_NAME[m.group(2)]} {m.group(3).replace('_', ' ')}: {value}")
    return out


@pytest.mark.parametrize("value", ["typed", None])
def test_every_catalogue_feature_is_described_in_words(value):
    """No feature falls through to the generic "<column words>: <value>" wording."""
    entries = [e for e in feature_catalogue() if e.family != "key"]
    assert len(entries) > 400
    for e in entries:
        v = SAMPLES.get(e.type, 1) if value == "typed" else None
        text = describe(e.name, v)
        assert text and "_" not in text, (e.name, e.type, text)
        assert text not in _fallbacks(e.name, v), (e.name, e.type, text)


def test_recent_win_loss_words_name_the_window():
    assert describe("wl_renewal_wins_90d", 1) == \
        "won 1 agreement renewal deal(s) in the last 90 days"
    assert describe("wl_azure_losses_90d", 2) == "lost 2 Azure deal(s) in the last 90 days"
    assert describe("wl_m365_opps_90d", None) == \
        "0 Microsoft 365 opportunity(ies) opened in the last 90 days"
    assert describe("wl_m365_wins", 3) == "won 3 Microsoft 365 deal(s) before"
