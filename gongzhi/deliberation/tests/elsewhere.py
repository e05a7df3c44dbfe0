"""Deliberation in another place: a topic and a closed, passed motion of community B (the org test world's
西园社区), for tests that a village's officer cannot lean on them."""

import datetime as dt
from dataclasses import dataclass

from gongzhi.core import clock
from gongzhi.deliberation import services
from gongzhi.deliberation.models import Meeting, Motion, Topic


@dataclass
class Elsewhere:
    topic: Topic
    meeting: Meeting
    motion: Motion


def deliberate_in_community_b(world) -> Elsewhere:
    """Community B's residents' committee (its director alone) passes a motion on a topic of community B."""
    officer = world.secretary_b
    topic = services.propose_topic(officer, region=world.community_b, title="西园社区加装电梯",
                                   description="西园社区的议题", origin="organisation")
    body = services.create_body(officer, region=world.community_b, kind="residents_committee", name="西园居委会",
                                organisation=world.committee_b)
    starts = clock.now() + dt.timedelta(days=services.DEFAULT_NOTICE_DAYS)
    meeting = services.schedule_meeting(officer, body, title="西园居委会会议", agenda="加装电梯", starts_at=starts,
                                        topic=topic)
    with clock.frozen_at(starts):
        services.open_meeting(officer, meeting)
        services.sign_in(officer, meeting)
        motion = services.open_motion(officer, meeting, text="同意加装电梯", topic=topic, amount="300000")
        services.cast_ballot(officer, motion, "yes")
        motion = services.close_motion(officer, motion)
        services.close_meeting(officer, meeting, minutes="会议记录")
    meeting.refresh_from_db()
    return Elsewhere(topic=topic, meeting=meeting, motion=motion)
