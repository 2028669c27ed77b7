"""The contract (suite.py) of the in-process fakes the engine's fast tests run against."""

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
    ("real", "fake", "answering"),
    [
        (QuickBooksClient, FakeQuickBooksClient, {"_get", "_company", "_refusal"}),
        (
            ConstantContactClient,
            FakeConstantContactClient,
            {"_call", "_answered", "_account", "_attempt"},
        ),
    ],
)
def test_the_fakes_are_the_clients_with_their_answers_read_from_memory(real, fake, answering):
    """Every public method the engine calls is the real client's own: the fakes replace
    only the one request a client makes (and what answers it)."""
    assert issubclass(fake, real)
    own = {name for name in vars(fake) if not name.startswith("__")}
    assert own == answering
    assert {name for name in answering if name in vars(real)} == answering & {"_get", "_call"}
