"""Who the caller is and what their roles let them do."""
from dataclasses import dataclass

from demeu_common.actors import Actor as BaseActor
from demeu_common.errors import Forbidden


@dataclass(frozen=True)
class Actor(BaseActor):
    @property
    def is_mentor(self):
        return self.has("mentor")

    def runs(self, mentor_id):
        """The program's own mentor, or an admin."""
        return self.is_admin or (self.user_id is not None and self.user_id == mentor_id)


def ensure_signed_in(actor):
    if not actor.user_id:
        raise Forbidden("Sign in first.", code="authentication_required")


def ensure_mentor(actor):
    if not actor.is_mentor:
        raise Forbidden("Only mentors and admins may do this.")


def ensure_runs(actor, mentor_id):
    if not actor.runs(mentor_id):
        raise Forbidden("Only the program's mentor or an admin may do this.")
