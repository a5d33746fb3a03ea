from demeu_common.entrypoints import rpc
from demeu_common.errors import DomainError


class Service:
    name = "probe"

    @rpc
    def bare(self):
        pass

    @rpc(sensitive_arguments=("secret",))
    def called(self, secret):
        pass


def test_domain_errors_are_expected_whether_rpc_is_used_bare_or_called():
    from nameko.testing.services import entrypoint_hook  # noqa: F401 - nameko import sanity
    from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

    for method in (Service.bare, Service.called):
        (entrypoint,) = getattr(method, ENTRYPOINT_EXTENSIONS_ATTR)
        assert entrypoint.expected_exceptions is DomainError
