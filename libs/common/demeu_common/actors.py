"""Who is calling: the ``{"user_id", "roles"}`` the gateway passes with every RPC, as a value
the services' rules can ask questions of."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    user_id: str | None
    roles: frozenset = frozenset()

    @classmethod
    def from_wire(cls, actor):
        if not actor:
            return cls(None)
        return cls(actor.get("user_id"), frozenset(actor.get("roles") or ()))

    def has(self, role):
        """Holds ``role``; an admin holds every role."""
        return role in self.roles or "admin" in self.roles

    @property
    def is_admin(self):
        return "admin" in self.roles
