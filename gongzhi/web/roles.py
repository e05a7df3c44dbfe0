"""Who is signed in, as what: the person's name and the posts in force today, the post they act as, and the menu
those posts can use.

One person may hold several posts (一肩挑: the community's party secretary who also directs the residents'
committee). By default they act with all of them at once. The switch in the header lets them act as one post
only: ActingPostMiddleware then narrows org.permissions.active_posts(user) to that post for every request, so
the menu, the home page's work and every permission check follow the post chosen, until they switch back.
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from gongzhi.core import policy
from gongzhi.org.models import Post
from gongzhi.org.permissions import active_posts

SESSION_KEY = "gongzhi_acting_post"


def post_label(post: Post) -> str:
    """"社区党委书记 · 东华园社区党委": the local title (else the role), then the organisation."""
    return f"{post.title or post.get_role_display()} · {post.organisation.name}"


def held_posts(user) -> list[Post]:
    """Every post the user holds today, whatever post they act as (the switch lists them all)."""
    held = getattr(user, "_gongzhi_all_posts", None)
    return held if held is not None else active_posts(user)


class ActingPostMiddleware:
    """Narrow the signed-in user's posts to the one they chose to act as (the session remembers it); a post
    that has ended since, or that is not theirs, is forgotten."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        user = getattr(request, "user", None)
        if chosen and user is not None and user.is_authenticated:
            posts = active_posts(user)
            acting = [p for p in posts if p.pk == chosen]
            if acting:
                user._gongzhi_all_posts = posts
                user._gongzhi_posts = acting
            else:
                del request.session[SESSION_KEY]
        return self.get_response(request)


def acting_post(request) -> Post | None:
    user = request.user
    if getattr(user, "_gongzhi_all_posts", None) is None:
        return None
    posts = active_posts(user)
    return posts[0] if len(posts) == 1 else None


# --- the menu --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MenuEntry:
    key: str
    label: object
    url_name: str
    shows: object  # function of the user -> bool


def _has_posts(user) -> bool:
    return bool(active_posts(user)) or user.is_superuser


def _resident(user) -> bool:
    return not _has_posts(user)


def _can(action):
    return lambda user: policy.can(user, action)


def _queue_user(user) -> bool:
    from gongzhi.demands.permissions import dispatcher_paths, grid_worker_paths

    return bool(_handler(user) or dispatcher_paths(user) or grid_worker_paths(user))


def _desk(user) -> bool:
    from gongzhi.demands.permissions import dispatcher_paths

    return bool(dispatcher_paths(user))


def _role(*roles):
    return lambda user: any(p.role in roles for p in active_posts(user))


def _office(user) -> bool:
    """An office of a governing body (party organisations, committees, street office, district government), not
    a department or a unit: they keep the register of regions, grids and posts."""
    from gongzhi.demands.permissions import OVERSEER_KINDS
    from gongzhi.org.permissions import OFFICE

    return user.is_superuser or any(p.role in OFFICE and p.organisation.kind in OVERSEER_KINDS
                                    for p in active_posts(user))


def _handler(user) -> bool:
    """An office post (leader, member, staff) in any unit: a demand dispatched to the unit is theirs to handle.
    Grid workers, building leads and data officers hold posts in a committee or a government without
    handling its demands."""
    from gongzhi.org.permissions import OFFICE

    return user.is_superuser or any(p.role in OFFICE for p in active_posts(user))


def _confirms_households(user) -> bool:
    """The grid worker, or the office of a community / village: they know who lives where."""
    from gongzhi.org.models import Region

    face_to_face = _role(R.GRID_WORKER)(user) or any(
        p.organisation.region.level == Region.Level.COMMUNITY for p in active_posts(user) if _office_post(p))
    return policy.can(user, "org.confirm_household") and (user.is_superuser or face_to_face)


def _office_post(post) -> bool:
    from gongzhi.demands.permissions import OVERSEER_KINDS
    from gongzhi.org.permissions import OFFICE

    return post.role in OFFICE and post.organisation.kind in OVERSEER_KINDS


def _overseer_above_community(user) -> bool:
    """An office of a street, township or district governing body: the monthly report is theirs."""
    from gongzhi.org.models import Region

    return user.is_superuser or any(_office_post(p) and p.organisation.region.level <= Region.Level.STREET
                                    for p in active_posts(user))


def _meets(user) -> bool:
    """Officers, and members of a deliberative body (a residents' council, a joint meeting)."""
    from gongzhi.deliberation.models import BodyMember

    return _office(user) or BodyMember.objects.filter(person__user=user, until__isnull=True).exists()


R = Post.Role

# In the order shown. An entry whose page is not installed (NoReverseMatch) is left out.
MENU = (
    MenuEntry("home", _("Today's work"), "web:home", _has_posts),
    MenuEntry("report", _("Report a problem"), "demands:new", _resident),
    MenuEntry("mine", _("My demands"), "demands:mine", _resident),
    MenuEntry("where", _("Where I live"), "org:my_household", lambda u: _resident(u) and hasattr(u, "resident_account")),
    MenuEntry("queue", _("To do"), "demands:queue", _queue_user),
    MenuEntry("triage", _("Dispatch desk"), "demands:triage", lambda u: u.is_superuser or _desk(u)),
    MenuEntry("patrol", _("Patrol"), "patrol:today", _role(R.GRID_WORKER)),
    MenuEntry("care", _("Visits"), "care:home", _role(R.GRID_WORKER)),
    MenuEntry("building", _("My building"), "care:buildings", _role(R.BUILDING_LEAD)),
    MenuEntry("collect", _("Collect opinions"), "deliberation:collect_index", _role(R.BUILDING_LEAD)),
    MenuEntry("supervision", _("Supervision"), "demands:supervision", _can("demands.supervision.board")),
    MenuEntry("supervision_inbox", _("Supervision orders"), "demands:supervision_inbox",
              lambda u: not policy.can(u, "demands.supervision.board") and policy.can(u, "demands.supervision.has_orders")),
    MenuEntry("rates", _("Rates and ranking"), "demands:dashboard",
              lambda u: policy.can(u, "demands.view_rates") and _handler(u)),
    MenuEntry("insight", _("Analysis"), "insight:cockpit", lambda u: policy.can(u, "insight.view") and _office(u)),
    MenuEntry("models", _("Classifier quality"), "insight:models", _can("insight.manage_models")),
    MenuEntry("monthly", _("Monthly report"), "web:report", lambda u: _overseer_above_community(u)),
    MenuEntry("meetings", _("Meetings"), "deliberation:meetings", _meets),
    MenuEntry("topics", _("Deliberation"), "deliberation:topics", lambda u: True),
    MenuEntry("cases", _("Case files"), "cases:list", lambda u: True),
    MenuEntry("duties", _("Duties"), "duties:index", lambda u: True),
    MenuEntry("org", _("Regions and grids"), "org:regions", _office),
    MenuEntry("claims", _("Residents to confirm"), "org:claims", _confirms_households),
    MenuEntry("access_log", _("Access log"), "org:access_log", _can("org.view_access_log")),
    MenuEntry("admin", _("Admin"), "admin:index", lambda u: u.is_staff),
)

# What a visitor who is not signed in sees.
PUBLIC_MENU = (
    MenuEntry("report", _("Report a problem"), "demands:report", lambda u: True),
    MenuEntry("track", _("Follow my demand"), "demands:track", lambda u: True),
    MenuEntry("public", _("What residents report"), "demands:public", lambda u: True),
    MenuEntry("topics", _("Deliberation"), "deliberation:topics", lambda u: True),
    MenuEntry("cases", _("Case files"), "cases:list", lambda u: True),
    MenuEntry("duties", _("Duties"), "duties:index", lambda u: True),
)


def menu_for(user) -> list[dict]:
    """The menu entries `user`'s posts can use, each {"key", "label", "url"}."""
    signed_in = getattr(user, "is_authenticated", False)
    found = []
    for entry in (MENU if signed_in else PUBLIC_MENU):
        if signed_in and not entry.shows(user):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        found.append({"key": entry.key, "label": entry.label, "url": url})
    return found
