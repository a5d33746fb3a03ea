"""Tells notifications how to reach a user (email, language) when a token first shows them.

Tokens are the only place the platform learns a user's email and locale; events never carry
them. Sending once per user and change, per gateway process, keeps this off the hot path."""
import logging
from collections import OrderedDict

from nameko.extensions import DependencyProvider
from nameko.standalone.rpc import ClusterRpcProxy

log = logging.getLogger(__name__)


class ContactRelay(DependencyProvider):
    def setup(self):
        self.seen = OrderedDict()
        self.max_seen = 50_000

    def worker_setup(self, worker_ctx):
        request = worker_ctx.args[0] if worker_ctx.args else None
        actor = getattr(request, "actor", None)
        if not actor or not actor.get("user_id") or not (actor.get("email") or actor.get("locale")):
            return
        fingerprint = (actor["user_id"], actor.get("email"), actor.get("locale"))
        if self.seen.get(actor["user_id"]) == fingerprint:
            return
        self.seen[actor["user_id"]] = fingerprint
        if len(self.seen) > self.max_seen:
            self.seen.popitem(last=False)
        self.container.spawn_managed_thread(lambda: self._send(*fingerprint))

    def _send(self, user_id, email, locale):
        try:
            with ClusterRpcProxy(self.container.config, timeout=5) as rpc:
                rpc.notifications.remember_contact(user_id, email, locale)
        except Exception:
            self.seen.pop(user_id, None)  # try again on the user's next request
            log.warning("could not pass the contact of %s to notifications", user_id, exc_info=True)
