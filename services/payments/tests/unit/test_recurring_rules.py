from datetime import datetime, timezone

from payments.domain import recurring

JAN_31 = datetime(2027, 1, 31, 9, 30, tzinfo=timezone.utc)


def test_a_month_later_is_the_same_day_or_the_months_last():
    assert recurring.add_months(JAN_31, 1) == datetime(2027, 2, 28, 9, 30, tzinfo=timezone.utc)
    assert recurring.add_months(JAN_31, 3) == datetime(2027, 4, 30, 9, 30, tzinfo=timezone.utc)
    assert recurring.add_months(JAN_31, 12) == datetime(2028, 1, 31, 9, 30, tzinfo=timezone.utc)
    assert recurring.add_months(datetime(2027, 12, 15, tzinfo=timezone.utc), 1).month == 1


def test_a_declined_charge_is_retried_after_two_then_five_days_then_the_plan_ends():
    status, failures, at = recurring.after_decline(0, JAN_31)
    assert (status, failures, (at - JAN_31).days) == ("active", 1, 2)
    status, failures, at = recurring.after_decline(1, JAN_31)
    assert (status, failures, (at - JAN_31).days) == ("active", 2, 5)
    assert recurring.after_decline(2, JAN_31) == ("cancelled", 3, None)


def test_each_period_has_one_charge_reference():
    assert recurring.charge_reference("p", 4) == "recurring:p:4"
    assert recurring.charge_reference("p", 4, 2) == "recurring:p:4:2"
