"""The campaign state machine and who may drive it. Pure Python: no broker, no database."""
from dataclasses import dataclass
from datetime import timedelta

from demeu_common.actors import Actor as BaseActor
from demeu_common.errors import Conflict, Forbidden, InvalidTransition, NotFound

DRAFT, PENDING, LIVE, REJECTED, SUCCEEDED, FAILED = (
    "draft", "pending_review", "live", "rejected", "succeeded", "failed",
)
PUBLIC_STATUSES = frozenset({LIVE, SUCCEEDED, FAILED})
ALL_OR_NOTHING, KEEP_IT_ALL = "all_or_nothing", "keep_it_all"
MAX_DURATION_DAYS = {ALL_OR_NOTHING: 60, KEEP_IT_ALL: 365}


@dataclass(frozen=True)
class Transition:
    action: str
    source: str
    target: str | None  # None: decided by the rule of the action (close)
    role: str  # "owner" or a platform role


TRANSITIONS = {
    "submit": Transition("submit", DRAFT, PENDING, "owner"),
    "approve": Transition("approve", PENDING, LIVE, "moderator"),
    "reject": Transition("reject", PENDING, REJECTED, "moderator"),
    "close": Transition("close", LIVE, None, "admin"),
}


@dataclass(frozen=True)
class Actor(BaseActor):
    system: bool = False  # never set from the wire: see SYSTEM

    @property
    def is_staff(self):
        return self.has("moderator")


# The platform itself, acting on its own rules (a campaign reaching ``ends_at``). It holds
# no user role and it may do only the actions listed here. No caller can pose as it: an
# actor from the wire never has ``system`` set, whatever its user_id.
SYSTEM = Actor("system", system=True)
SYSTEM_ACTIONS = frozenset({"close"})
DEADLINE_REASON = "The campaign reached its end date."


def can_see(actor, status, owner_id):
    return status in PUBLIC_STATUSES or actor.user_id == owner_id or actor.is_staff


def ensure_visible(actor, status, owner_id):
    if not can_see(actor, status, owner_id):
        raise NotFound("No such campaign.", code="campaign_not_found")


def authorize(action, actor, owner_id):
    """Raise unless ``actor`` may perform ``action`` on a campaign owned by ``owner_id``."""
    if actor.system:
        if action in SYSTEM_ACTIONS:
            return
        raise Forbidden(f"The platform does not {action} campaigns on its own.")
    role = TRANSITIONS[action].role
    allowed = actor.user_id == owner_id if role == "owner" else actor.has(role)
    if not allowed:
        raise Forbidden(f"Only the campaign's {role} may {action} it.")


def next_status(action, current, *, funding_model=None, raised_amount=0, goal_amount=0):
    transition = TRANSITIONS[action]
    if current != transition.source:
        raise InvalidTransition(f"A {current} campaign cannot be {action_past(action)}.")
    if transition.target is not None:
        return transition.target
    return closing_status(funding_model, raised_amount, goal_amount)


def closing_status(funding_model, raised_amount, goal_amount):
    """How a live campaign ends: keep_it_all always succeeds; all_or_nothing only at goal
    (matched money counts toward it)."""
    if funding_model == KEEP_IT_ALL or raised_amount >= goal_amount:
        return SUCCEEDED
    return FAILED


def live_window(now, duration_days):
    return now, now + timedelta(days=duration_days)


def ensure_editable(actor, status, owner_id):
    if actor.user_id != owner_id:
        raise Forbidden("Only the owner may edit a campaign.")
    if status != DRAFT:
        raise Conflict("Only a draft can be edited.", code="invalid_transition")


def ensure_accepts_donations(status, ends_at, now):
    if status != LIVE or (ends_at is not None and ends_at <= now):
        raise Conflict("The campaign is not accepting donations.", code="campaign_not_live")


def action_past(action):
    return {"submit": "submitted", "approve": "approved", "reject": "rejected", "close": "closed"}[action]
