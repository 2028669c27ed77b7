"""The contract (suite.py) of the in-process fakes the engine's fast tests run against."""

import inspect

import pytest

from integrations.constantcontact.client import ConstantContactClient
from integrations.quickbooks.client import QuickBooksClient
from tests.contract.suite import Contract, World
from tests.plugins.fake_constantcontact import FakeConstantContactClient
from tests.plugins.fake_quickbooks import FakeQuickBooksClient


class TestFakes(Contract):
    @pytest.fixture
    def world(self, fakes) -> World:
        return World(company=fakes.install(), set_knobs=fakes.set_knobs)


@pytest.mark.parametrize(
    ("real", "fake"),
    [
        (QuickBooksClient, FakeQuickBooksClient),
        (ConstantContactClient, FakeConstantContactClient),
    ],
)
def test_the_fakes_offer_every_method_of_the_clients(real, fake):
    """Each public method of the real client, with the same parameters (names, kinds,
    defaults), so the engine cannot call the fakes in a way the clients would refuse."""
    methods = sorted(name for name in vars(real) if not name.startswith("_"))
    assert methods
    differing = [
        name
        for name in methods
        if _parameters(getattr(fake, name, None)) != _parameters(getattr(real, name))
    ]
    assert differing == []


def _parameters(method) -> list[tuple[str, object, object]] | None:
    if method is None:
        return None
    return [(p.name, p.kind, p.default) for p in inspect.signature(method).parameters.values()]
