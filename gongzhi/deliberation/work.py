"""deliberation's items on the home page's "today's work" (core.workbench): the meetings of the user's bodies
today, the votes waiting for them, the moderation queue for community and village officers, and, for a building lead, the topics
whose opinions they may collect. Each links to the page that lists exactly those items."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from gongzhi.core import clock
from gongzhi.core.workbench import WorkItem

from . import collected, moderation, permissions, queries


def _meetings_url(**params) -> str:
    return reverse("deliberation:meetings") + "?" + urlencode(params)


def work_items(user) -> list[WorkItem]:
    items = []
    today = clock.today()
    meetings_today = queries.my_meetings_on(user, today)
    if meetings_today:
        items.append(WorkItem("deliberation.meetings_today", _("Meetings today"), len(meetings_today),
                              _meetings_url(mine=1, day=today.isoformat()), group="deliberation", order=10))
    votes = queries.motions_awaiting_my_vote(user).count()
    if votes:
        items.append(WorkItem("deliberation.votes_waiting", _("Votes waiting for you"), votes,
                              _meetings_url(voting=1), urgent=True, group="deliberation", order=5))
    if permissions.building_lead_posts(user):
        topics = collected.topics_seeking_opinions(user)
        items.append(WorkItem("deliberation.opinions_to_collect", _("Topics seeking my building's opinions"),
                              len(topics), reverse("deliberation:collect_index"), group="deliberation", order=30))
    if permissions.community_officer(user):
        items.append(WorkItem("deliberation.moderation", _("Topics awaiting moderation"),
                              moderation.queue_count(user), reverse("deliberation:moderation"),
                              group="deliberation", order=20))
    return items

