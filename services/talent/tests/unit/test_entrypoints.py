"""The service's wiring: refusals are expected outcomes, not crashes."""
import inspect

from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from nameko.rpc import Rpc

from demeu_common.errors import DomainError
from talent.service import TalentService


def test_every_talent_rpc_treats_domain_errors_as_expected_outcomes():
    checked = 0
    for name, method in inspect.getmembers(TalentService, inspect.isfunction):
        if name == "ping":  # inherited from demeu_common.health
            continue
        for entrypoint in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(entrypoint, Rpc):
                assert entrypoint.expected_exceptions == DomainError, name
                checked += 1
    assert checked >= 16
