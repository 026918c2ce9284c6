"""The Store facade hands each call to the module of its concern with the same signature, and
every concern's public method is reachable through it."""

from __future__ import annotations

import inspect

import pytest

from riskapp.store.audit import AuditTrail
from riskapp.store.backup import Backup
from riskapp.store.plans import Plans
from riskapp.store.register import Register
from riskapp.store.saved import SavedAssessments
from riskapp.store.seed import Seeding
from riskapp.store.store import Store
from riskapp.store.users import Users

CONCERNS = [Register, Plans, AuditTrail, SavedAssessments, Users, Backup, Seeding]


def _public(cls: type) -> list[str]:
    return [n for n, v in vars(cls).items() if not n.startswith("_") and callable(v)]


@pytest.mark.parametrize("concern", CONCERNS, ids=lambda c: c.__name__)
def test_the_facade_offers_each_method_of_a_concern_with_its_signature(concern: type) -> None:
    for name in _public(concern):
        assert hasattr(Store, name), f"Store does not offer {concern.__name__}.{name}"
        assert inspect.signature(getattr(Store, name)) == inspect.signature(
            getattr(concern, name)
        ), name


def test_no_two_concerns_offer_the_same_method() -> None:
    seen: dict[str, str] = {}
    for concern in CONCERNS:
        for name in _public(concern):
            assert name not in seen, f"{name} in {seen.get(name)} and {concern.__name__}"
            seen[name] = concern.__name__
