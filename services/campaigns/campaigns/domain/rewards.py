"""Rules of rewards: which gift may claim which reward."""
from demeu_common.errors import Conflict, ValidationFailed


def ensure_reward_fits(reward, amount):
    if reward is None:
        raise ValidationFailed(
            "No such reward in this campaign.", errors={"reward_id": ["Unknown reward."]}
        )
    if amount < reward.min_amount:
        raise ValidationFailed(
            f"This reward needs a gift of at least {reward.min_amount} tiyn.",
            code="reward_min_amount",
            errors={"amount": [f"Must be at least {reward.min_amount} for this reward."]},
        )


def remaining(quantity, taken):
    return None if quantity is None else max(quantity - taken, 0)


def sold_out():
    return Conflict("No units of this reward are left.", code="reward_sold_out")
