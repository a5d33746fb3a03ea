"""The ``ping`` every service answers for the gateway's /health."""
from sqlalchemy import text

from demeu_common.entrypoints import rpc


class HealthRpc:
    """Mixed into each service class that has a ``db`` dependency: ``ping`` answers only
    when the service can also reach its database."""

    @rpc
    def ping(self):
        with self.db.get_session() as session:
            session.execute(text("SELECT 1"))
        return "ok"
