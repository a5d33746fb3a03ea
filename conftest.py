# Nameko services run on eventlet; its pytest plugin no longer patches, so we do, first.
import eventlet
import pytest

eventlet.monkey_patch()

pytest_plugins = ["demeu_common.testing"]


@pytest.fixture
def container_factory(amqp_uri, database_url_for, container_factory):
    """Nameko's factory, set up after (so torn down before) the vhost and databases the
    containers use: no container outlives its broker or its tables."""
    return container_factory
