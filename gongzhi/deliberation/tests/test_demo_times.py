"""The demo's meetings sit at local hours people meet (9:00 for a committee, 19:30 for a meeting of the people),
not at whatever hour (in UTC) the demo happened to be built: a stage built at 14:16 UTC is not a meeting at 22:16."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

from gongzhi.deliberation.demo import session_start

UTC = dt.timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(at: dt.datetime) -> tuple:
    at = timezone.localtime(at)
    return at.date(), at.hour, at.minute


def test_a_meeting_of_the_people_sits_at_half_past_seven_in_the_evening_local_time():
    earliest = dt.datetime(2026, 11, 3, 14, 16, tzinfo=UTC)  # 22:16 in Beijing: too late for that evening
    assert local(session_start("villagers_representatives_meeting", earliest)) == (dt.date(2026, 11, 4), 19, 30)
    earliest = dt.datetime(2026, 11, 3, 2, 0, tzinfo=UTC)  # 10:00 in Beijing: that evening
    assert local(session_start("party_members_meeting", earliest)) == (dt.date(2026, 11, 3), 19, 30)


def test_a_committee_sits_at_nine_in_the_morning_local_time():
    earliest = dt.datetime(2026, 10, 29, 11, 16, tzinfo=UTC)  # 19:16 in Beijing: the next morning
    assert local(session_start("party_branch_committee", earliest)) == (dt.date(2026, 10, 30), 9, 0)
    earliest = dt.datetime(2026, 10, 29, 20, 0, tzinfo=UTC)  # 04:00 on the 30th in Beijing: that morning
    assert local(session_start("two_committees_joint_meeting", earliest)) == (dt.date(2026, 10, 30), 9, 0)


def test_the_time_is_never_before_the_notice_ends_and_is_aware():
    for hours in range(0, 48, 5):
        earliest = dt.datetime(2026, 11, 1, tzinfo=UTC) + dt.timedelta(hours=hours)
        for kind in ("villagers_meeting", "villagers_committee"):
            at = session_start(kind, earliest)
            assert at >= earliest and at - earliest < dt.timedelta(days=1)
            assert at.utcoffset() == dt.timedelta(hours=8) and at.astimezone(SHANGHAI).minute in (0, 30)
