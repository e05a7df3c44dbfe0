"""The authorisation matrix: every API operation and page × every demo role × an object inside and an
object outside the role's scope.

The routes come from the URL configuration itself, so a new endpoint without an entry in ROUTES fails the
suite until someone says who may reach it. The oracle is independent of the apps' own scoping code: an
object is *out of scope* for a person when its place lies in another street (or another district) than
every place they hold a post in or live in, and it is not theirs by a relation (assigned to their unit,
filed or written by them). Such an object must answer 404 on every route that is not public, to reads
and writes alike, and a write must store nothing. Inside the scope a read must not answer 404, and
nothing may answer 5xx.
"""

import re
from dataclasses import dataclass, field
from unittest import mock

import pytest
from django.db import transaction
from django.db.models import Q
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from gongzhi.core.models import ApiToken, Event
from gongzhi.org import demo as demo_module
from gongzhi.org.models import Post, Region

pytestmark = pytest.mark.django_db

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Who may reach each route. Kinds:
#   public   anyone, signed in or not, reads it (objects anywhere); writes are checked for "no 5xx" only
#   scoped   signed in; an object out of the caller's scope answers 404
#   signed   signed in; no object in the path (lists, forms that create); anonymous is refused
#   own      signed in; the object belongs to one user (notifications, submissions): others' answer 404
#   auth     signing in and out, language
#   any      nothing to find there (the API's root): only "no 5xx" is checked
#   ops      the machine's own state, no object (gongzhi/ops/tests): /health/ready/ answers 503 while the machine is
#            not ready (here: no worker runs) and /metrics only to this machine or a bearer of its token
# API routes carry their method ("GET api/v1/…"); page routes are tried with GET and, when GET is not
# allowed, with POST.
ROUTES: dict[str, str] = {
    # --- pages -----------------------------------------------------------------------------------
    "": "public",
    "i18n/setlang/": "auth",
    "accounts/login/": "auth",
    "accounts/logout/": "auth",
    "accounts/sign-up/": "public",
    "favicon.ico": "public",
    "accounts/password/": "public",
    "accounts/code/": "public",
    "ledger/": "public",
    "ledger/receipt/": "public",
    "ledger/checkpoint": "public",
    "ledger/^(?P<tile_path>tile/.+)$": "public",
    "demands/new/": "public",
    "demands/mine/": "signed",
    "demands/queue/": "signed",
    "demands/triage/": "signed",
    "demands/dashboard/": "signed",
    "demands/dashboard/rates.csv": "signed",
    "demands/placement/": "signed",
    "demands/placement/<str:key>/place/": "scoped",
    "demands/placement/<str:key>/refuse/": "scoped",
    "demands/<str:number>/": "scoped",
    "demands/<str:number>/actions/<str:action>/": "scoped",
    "demands/<str:number>/reply-check/": "scoped",
    "demands/<str:number>/receipts/<int:event_id>.json": "scoped",
    "demands/<str:number>/photos/": "scoped",
    "demands/report/": "public",
    "demands/report/done/": "public",
    "demands/track/": "public",
    "demands/public/": "public",
    "demands/nearby/": "public",
    "demands/nearby/<str:number>/me-too/": "public",
    "demands/public/map.json": "public",
    "demands/track/<str:number>/": "public",
    "demands/track/<str:number>/rate/": "public",
    "demands/track/<str:number>/verdict/": "public",
    "demands/track/<str:number>/photos/": "public",
    "demands/<str:number>/photos/<int:photo_id>.jpg": "scoped",
    "demands/<str:number>/photos/<int:photo_id>-thumb.jpg": "scoped",
    "demands/<str:number>/photos/<int:photo_id>/publish/": "scoped",
    "demands/supervision/": "signed",
    "demands/supervision/inbox/": "signed",
    "demands/supervision/orders/<int:order_id>/answer/": "scoped",
    "demands/supervision/orders/<int:order_id>/close/": "scoped",
    "demands/<str:number>/supervise/": "scoped",
    "demands/<str:number>/list-publicly/": "scoped",
    "patrol/": "signed",
    "patrol/tasks/<int:patrol_task_id>/check-in/": "scoped",
    "patrol/findings/": "signed",
    "patrol/verify/": "signed",
    "patrol/verify/<str:number>/": "scoped",
    "patrol/plans/": "signed",
    "patrol/plans/places/": "signed",
    "patrol/plans/add/": "signed",
    "patrol/plans/<int:plan_id>/end/": "scoped",
    "insight/": "signed",
    "insight/warnings/": "signed",
    "insight/warnings/<int:warning_id>/demands/": "scoped",
    "insight/warnings/<int:warning_id>/act": "scoped",
    "insight/warnings/<int:warning_id>/assign": "scoped",
    "insight/warnings/<int:warning_id>/dismiss": "scoped",
    "insight/models/": "signed",
    "insight/issues/<int:issue_id>/topic": "scoped",
    "insight/hot-spots/<int:hot_spot_id>/topic": "scoped",
    "deliberation/": "public",
    "deliberation/topics/propose": "signed",
    "deliberation/topics/<int:topic_id>/": "public",
    "deliberation/topics/<int:topic_id>/support": "public",
    "deliberation/topics/<int:topic_id>/comments": "public",
    "deliberation/topics/<int:topic_id>/attachments": "scoped",
    "deliberation/topics/<int:topic_id>/procedure": "scoped",
    "deliberation/topics/<int:topic_id>/meetings": "scoped",
    "deliberation/topics/<int:topic_id>/draft-resolution": "scoped",
    "deliberation/topics/<int:topic_id>/statements": "public",
    "deliberation/topics/<int:topic_id>/map": "public",
    "deliberation/topics/<int:topic_id>/report": "public",
    "deliberation/topics/<int:topic_id>/collect": "scoped",
    "deliberation/topics/<int:topic_id>/collect/record": "scoped",
    "deliberation/collect/": "signed",
    "deliberation/moderation/": "signed",
    "deliberation/moderation/topics/<int:topic_id>/approve": "scoped",
    "deliberation/moderation/topics/<int:topic_id>/reject": "scoped",
    "deliberation/moderation/topics/<int:topic_id>/restore": "scoped",
    "deliberation/moderation/topics/<int:topic_id>/remove": "scoped",
    "deliberation/moderation/comments/<int:comment_id>/restore": "scoped",
    "deliberation/moderation/comments/<int:comment_id>/remove": "scoped",
    "deliberation/meetings/": "public",
    "deliberation/meetings/calendar": "public",
    "deliberation/comments/<int:comment_id>/report": "public",
    "deliberation/comments/<int:comment_id>/hide": "scoped",
    "deliberation/attachments/<int:attachment_id>": "public",
    "deliberation/statements/<int:statement_id>/vote": "public",
    "deliberation/statements/<int:statement_id>/moderate": "scoped",
    "deliberation/statements/<int:statement_id>/report": "public",
    "deliberation/meetings/<int:meeting_id>/": "public",
    "deliberation/meetings/<int:meeting_id>/quorum": "public",
    "deliberation/meetings/<int:meeting_id>/open": "scoped",
    "deliberation/meetings/<int:meeting_id>/sign-in": "scoped",
    "deliberation/meetings/<int:meeting_id>/attendance": "scoped",
    "deliberation/meetings/<int:meeting_id>/motions": "scoped",
    "deliberation/meetings/<int:meeting_id>/close": "scoped",
    "deliberation/attendance/<int:entry_id>/confirm": "scoped",
    "deliberation/motions/<int:motion_id>/": "public",
    "deliberation/motions/<int:motion_id>/ballot": "scoped",
    "deliberation/motions/<int:motion_id>/paper-ballots": "scoped",
    "deliberation/motions/<int:motion_id>/close": "scoped",
    "deliberation/motions/<int:motion_id>/paper-roll": "scoped",
    "deliberation/motions/<int:motion_id>/paper-roll/mark": "scoped",
    "deliberation/motions/<int:motion_id>/ballot-box": "scoped",
    "deliberation/ballots/<str:ballot_id>/confirm": "scoped",
    "deliberation/disclosures/": "public",
    "deliberation/disclosures/publish": "signed",
    "deliberation/disclosures/<int:disclosure_id>/objections": "public",
    "deliberation/objections/<int:objection_id>/answer": "scoped",
    "duties/": "public",
    "duties/powers/": "public",
    "duties/powers/adopt": "signed",
    "duties/powers/items/<int:item_id>/decisions": "scoped",
    "duties/powers/items/<int:item_id>/edit": "scoped",
    "duties/decisions/<int:decision_id>/project": "scoped",
    "duties/responsibilities/": "public",
    "duties/responsibilities/add": "signed",
    "duties/responsibilities/<int:entry_id>/edit": "scoped",
    "duties/responsibilities/<int:entry_id>/retire": "scoped",
    "duties/goals/": "public",
    "duties/goals/add": "signed",
    "duties/goals/reviews": "signed",
    "duties/goals/<int:goal_id>/": "public",
    "duties/goals/<int:goal_id>/progress": "scoped",
    "duties/goals/<int:goal_id>/tasks": "scoped",
    "duties/tasks/<int:task_id>/complete": "scoped",
    "duties/scorecards/": "public",
    "duties/scorecards/add": "signed",
    "duties/scorecards/compute": "signed",
    "duties/scorecards/evaluate": "signed",
    "duties/matching/": "public",
    "duties/matching/needs": "signed",
    "duties/matching/resources": "signed",
    "duties/matching/propose": "signed",
    "duties/matching/grid-workers": "signed",
    "duties/matches/<int:match_id>/accept": "scoped",
    "duties/projects/<int:project_id>/outcome": "scoped",
    "open311/v2/^discovery\\.(?P<fmt>[A-Za-z0-9]+)$": "public",
    "open311/v2/^services\\.(?P<fmt>[A-Za-z0-9]+)$": "public",
    "open311/v2/^services/(?P<service_code>[^/]+)\\.(?P<fmt>[A-Za-z0-9]+)$": "public",
    "open311/v2/^requests\\.(?P<fmt>[A-Za-z0-9]+)$": "public",
    "open311/v2/^requests/(?P<service_request_id>[^/]+)\\.(?P<fmt>[A-Za-z0-9]+)$": "public",
    "open311/v2/^tokens/(?P<token_id>[A-Za-z0-9_-]+)\\.(?P<fmt>[A-Za-z0-9]+)$": "public",
    "open311/v2/^(?P<path>.*)$": "public",
    "org/regions/": "signed",
    "org/regions/<int:region_id>/": "scoped",
    "org/organisations/": "signed",
    "org/organisations/<int:organisation_id>/": "scoped",
    "org/people/<int:person_id>/": "scoped",
    "org/people/<int:person_id>/personal-data/": "scoped",
    "org/coverage/": "signed",
    "org/access-log/": "signed",
    "org/my-household/": "signed",
    "org/claims/": "signed",
    "org/claims/<int:claim_id>/decide/": "scoped",
    "masked-preview/": "public",
    "manifest.webmanifest": "public",
    "dev/sms/": "public",
    "demands/messages/": "signed",
    "sw.js": "public",
    "offline/": "public",
    "calendar/": "signed",
    "acting-post/": "signed",
    "calendar/<int:year>/": "signed",
    "calendar/<int:year>.json": "signed",
    "report/": "signed",  # the monthly report; ?region=<id> is checked in REFERENCES
    "report/report.pdf": "signed",
    "report/report.xlsx": "signed",
    "report/table.csv": "signed",
    "report/table.xlsx": "signed",
    "care/": "signed",
    "care/buildings/": "signed",
    "care/buildings/<int:building_id>/": "scoped",
    "care/buildings/<int:building_id>/demands/": "scoped",
    "care/buildings/<int:building_id>/notices/": "scoped",
    "care/buildings/<int:building_id>/on-behalf/": "scoped",
    "care/households/<int:household_id>/": "scoped",
    "care/households/<int:household_id>/visits/": "scoped",
    "care/households/<int:household_id>/register/": "scoped",
    "care/registrations/<int:registration_id>/end/": "scoped",
    "care/visit-photos/<int:visit_photo_id>.jpg": "scoped",
    "care/visit-photos/<int:visit_photo_id>-thumb.jpg": "scoped",
    # The case file: public where its topic is public (a hidden topic's case answers 404 but to its officers);
    # acting on it is refused (403, in words) to anyone who did not raise it / is not its unit or officer.
    "cases/": "public",
    "cases/<int:case_id>/": "public",
    "cases/<int:case_id>/verify/": "public",
    "cases/<int:case_id>/receipts.json": "public",
    "cases/<int:case_id>/receipts/<int:event_id>.json": "public",
    "cases/<int:case_id>/verdict": "public",
    "cases/<int:case_id>/milestones/<int:task_id>/progress": "public",
    "cases/<int:case_id>/milestones/<int:task_id>/check": "public",
    "cases/<int:case_id>/outcome": "public",
    "cases/<int:case_id>/reply": "public",
    "cases/<int:case_id>/photos/<int:progress_photo_id>.jpg": "public",
    "cases/<int:case_id>/photos/<int:progress_photo_id>-thumb.jpg": "public",
    "cases/<int:case_id>/case-file.pdf": "public",
    # --- the JSON API ----------------------------------------------------------------------------
    "api/v1/": "any",
    "api/v1/openapi.json": "public",
    "api/v1/docs": "public",
    # --- operations (gongzhi/ops) ------------------------------------------------------------------
    "health/live/": "public",
    "health/ready/": "ops",
    "metrics": "ops",
}

# Where an object lies, by the name its id has in a route (a route may override by prefix in OBJECTS).
@dataclass(frozen=True)
class Locator:
    model: str  # "app.Model"
    path: str  # lookup of the region path that places it
    value: str = "pk"  # what goes into the URL
    mine: tuple[str, ...] = ()  # lookups of a user that make the object the caller's own (Q(lookup=user))
    units: tuple[str, ...] = ()  # lookups of an organisation id that make it the caller's unit's
    public: bool = False  # anyone may know it exists (a topic, a meeting's notice, a power item …)


DEMAND = Locator("demands.Demand", "grid__path", "number", mine=("reporter_user",),
                 units=("assignments__unit",))
PARAMS: dict[str, Locator] = {
    "number": DEMAND,
    "service_request_id": DEMAND,
    "warning_id": Locator("insight.Warning", "community__path"),
    "issue_id": Locator("insight.Issue", "community__path"),
    "hot_spot_id": Locator("insight.HotSpot", "grid__path"),
    "topic_id": Locator("deliberation.Topic", "region__path", mine=("proposer",), public=True),
    "comment_id": Locator("deliberation.Comment", "topic__region__path", mine=("author",), public=True),
    "attachment_id": Locator("deliberation.Attachment", "topic__region__path", public=True),
    "statement_id": Locator("deliberation.Statement", "topic__region__path", mine=("author",), public=True),
    "meeting_id": Locator("deliberation.Meeting", "body__region__path", public=True),
    "motion_id": Locator("deliberation.Motion", "meeting__body__region__path", public=True),
    "ballot_id": Locator("deliberation.Ballot", "motion__meeting__body__region__path", public=True),
    "disclosure_id": Locator("deliberation.Disclosure", "region__path", public=True),
    "objection_id": Locator("deliberation.Objection", "disclosure__region__path", mine=("filed_by",), public=True),
    "item_id": Locator("duties.PowerItem", "region__path", public=True),
    "goal_id": Locator("duties.Goal", "region__path", public=True),
    "task_id": Locator("duties.Task", "goal__region__path", public=True),
    "match_id": Locator("duties.Match", "need__region__path", public=True),
    "project_id": Locator("duties.Project", "region__path", public=True),
    "decision_id": Locator("duties.Decision", "item__region__path", public=True),
    "case_id": Locator("cases.Case", "region__path", public=True),
    "progress_photo_id": Locator("cases.ProgressPhoto", "case__region__path", public=True),
    "region_id": Locator("org.Region", "path"),
    "organisation_id": Locator("org.Organisation", "region__path"),
    "person_id": Locator("org.Person", "residence__path", mine=("user",)),
    "notification_id": Locator("demands.Notification", "", mine=("recipient_user",), units=("recipient_unit",)),
    "key": Locator("demands.Submission", "grid__path", "key", mine=("submitter",)),
    "order_id": Locator("demands.SupervisionOrder", "demand__grid__path", units=("unit", "supervisor")),
    "building_id": Locator("org.Building", "grid__path"),
    "claim_id": Locator("org.HouseholdClaim", "building__grid__path", mine=("person__user",)),
    "post_id": Locator("org.Post", "organisation__region__path", mine=("person__user",)),
    "body_id": Locator("deliberation.Body", "region__path", public=True),
    "patrol_task_id": Locator("patrol.PatrolTask", "grid__path"),
    "plan_id": Locator("patrol.PatrolPlan", "grid__path"),
    "household_id": Locator("org.Household", "building__grid__path"),
    "registration_id": Locator("care.CareRegistration", "person__household__building__grid__path"),
    "visit_photo_id": Locator("care.VisitPhoto", "visit__household__building__grid__path"),
}
OBJECTS: dict[str, Locator] = {  # route prefix -> locator of its (first) id, where the name is ambiguous
    "deliberation/attendance/": Locator("deliberation.RollEntry", "meeting__body__region__path", public=True),
    "api/v1/deliberation/attendance/": Locator("deliberation.RollEntry", "meeting__body__region__path", public=True),
    "duties/responsibilities/": Locator("duties.Responsibility", "region__path", public=True),
    "api/v1/duties/responsibilities/": Locator("duties.Responsibility", "region__path", public=True),
    "api/v1/cases/photos/": Locator("cases.ProgressPhoto", "case__region__path", public=True),
}
FIXED = {"action": "accept", "fmt": "json", "path": "nothing-here", "year": "2026"}  # values that are not objects


@dataclass
class Route:
    key: str  # as in ROUTES
    pattern: str  # the URL pattern
    method: str  # "GET", "POST", … or "" for a page (tried with GET, then POST)
    params: list[str] = field(default_factory=list)


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def api_methods() -> dict[str, list[str]]:
    """{URL pattern: methods} of every ninja operation, read from the API's own routers."""
    from gongzhi.api import api

    found: dict[str, list[str]] = {}
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            url = "api/v1/" + (prefix.strip("/") + "/" + path.lstrip("/")).strip("/")
            url = re.sub(r"\{(?:\w+:)?(\w+)\}", r"<\1>", url)
            if path.endswith("/") and not url.endswith("/"):
                url += "/"
            found.setdefault(url, [])
            for operation in path_view.operations:
                found[url] += [m.upper() for m in operation.methods]
    return found


def all_routes() -> list[Route]:
    methods = api_methods()
    routes, seen = [], set()
    for pattern, _url in _walk(get_resolver().url_patterns):
        if pattern.startswith(("admin/", "static/")):
            continue
        params = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", pattern)
        names = [a or b for a, b in params]
        if pattern.startswith("api/v1/") and pattern in methods:
            candidates = [Route(f"{method} {pattern}", pattern, method, names) for method in methods[pattern]]
        else:
            candidates = [Route(pattern, pattern, "", names)]
        for route in candidates:
            if route.key not in seen:
                seen.add(route.key)
                routes.append(route)
    return routes


def test_every_route_has_an_entry_in_the_matrix():
    """A new page or API operation fails here until ROUTES says who may reach it."""
    missing = [r.key for r in all_routes() if r.key not in ROUTES and not r.key.startswith(("GET ", "POST ", "PUT ",
                                                                                            "PATCH ", "DELETE "))]
    api_missing = [r.key for r in all_routes() if r.method and r.key not in ROUTES and r.key not in API_ROUTES]
    assert not missing and not api_missing, f"routes without an entry in the matrix: {missing + api_missing}"
    gone = set(ROUTES) - {r.key for r in all_routes()}
    gone |= set(API_ROUTES) - {r.key for r in all_routes()}
    assert not gone, f"entries for routes that no longer exist: {sorted(gone)}"
    for route in all_routes():
        unknown = [p for p in route.params if p not in PARAMS and p not in FIXED and not _override(route)
                   and p not in ("tile_path", "token_id", "service_code", "event_id", "photo_id", "index")]
        assert not unknown, f"{route.key}: no locator for {unknown}"


# API operations, each "METHOD pattern": kind. Kept apart from the pages for reading.
API_ROUTES: dict[str, str] = {
    "GET api/v1/ledger/checkpoint": "public",
    "GET api/v1/ledger/key": "public",
    "GET api/v1/ledger/entries/<index>": "public",
    "GET api/v1/ledger/proof/inclusion": "public",
    "GET api/v1/ledger/proof/consistency": "public",
    "GET api/v1/ledger/proof/by-hash": "public",
    "POST api/v1/ledger/receipts/verify": "public",
    "GET api/v1/ledger/receipts/<index>": "public",
    "POST api/v1/ledger/cosignatures": "public",
    "GET api/v1/org/regions": "signed",
    "GET api/v1/org/regions/tree": "signed",
    "GET api/v1/org/regions/<region_id>": "scoped",
    "GET api/v1/org/regions/<region_id>/geojson": "scoped",
    "GET api/v1/org/grids": "signed",
    "GET api/v1/org/locate": "signed",
    "GET api/v1/org/places": "public",
    "GET api/v1/org/basemap": "public",
    "GET api/v1/org/buildings": "signed",
    "GET api/v1/org/buildings/<building_id>": "scoped",
    "GET api/v1/org/organisations": "signed",
    "GET api/v1/org/organisations/<organisation_id>": "scoped",
    "GET api/v1/org/posts": "signed",
    "POST api/v1/org/posts": "signed",
    "POST api/v1/org/posts/<post_id>/end": "scoped",
    "GET api/v1/org/people": "signed",
    "GET api/v1/org/people/<person_id>": "scoped",
    "POST api/v1/org/people/<person_id>/personal-data": "scoped",
    "GET api/v1/org/coverage": "signed",
    "GET api/v1/org/access-log": "signed",
    "GET api/v1/deliberation/bodies": "public",
    "POST api/v1/deliberation/bodies": "signed",
    "POST api/v1/deliberation/bodies/<body_id>/members": "scoped",
    "GET api/v1/deliberation/topics": "public",
    "POST api/v1/deliberation/topics": "signed",
    "GET api/v1/deliberation/topics/<topic_id>": "public",
    "POST api/v1/deliberation/topics/<topic_id>/support": "public",
    "POST api/v1/deliberation/topics/<topic_id>/attachments": "scoped",
    "GET api/v1/deliberation/topics/<topic_id>/attachments": "public",
    "GET api/v1/deliberation/attachments/<attachment_id>": "public",
    "GET api/v1/deliberation/topics/<topic_id>/comments": "public",
    "POST api/v1/deliberation/topics/<topic_id>/comments": "public",
    "POST api/v1/deliberation/comments/<comment_id>/hide": "scoped",
    "POST api/v1/deliberation/comments/<comment_id>/report": "public",
    "GET api/v1/deliberation/topics/<topic_id>/statements": "public",
    "POST api/v1/deliberation/topics/<topic_id>/statements": "public",
    "POST api/v1/deliberation/statements/<statement_id>/vote": "public",
    "POST api/v1/deliberation/statements/<statement_id>/moderate": "scoped",
    "POST api/v1/deliberation/statements/<statement_id>/report": "public",
    "GET api/v1/deliberation/topics/<topic_id>/map": "public",
    "GET api/v1/deliberation/topics/<topic_id>/next-statement": "public",
    "POST api/v1/deliberation/topics/<topic_id>/draft-resolution": "scoped",
    "POST api/v1/deliberation/topics/<topic_id>/procedure": "scoped",
    "POST api/v1/deliberation/topics/<topic_id>/stages": "scoped",
    "GET api/v1/deliberation/procedures": "public",
    "POST api/v1/deliberation/meetings": "signed",
    "GET api/v1/deliberation/meetings": "public",
    "POST api/v1/deliberation/topics/<topic_id>/report": "public",
    "GET api/v1/deliberation/moderation": "signed",
    "POST api/v1/deliberation/moderation/topics/<topic_id>/approve": "scoped",
    "POST api/v1/deliberation/moderation/topics/<topic_id>/reject": "scoped",
    "POST api/v1/deliberation/moderation/topics/<topic_id>/restore": "scoped",
    "POST api/v1/deliberation/moderation/topics/<topic_id>/remove": "scoped",
    "POST api/v1/deliberation/moderation/comments/<comment_id>/restore": "scoped",
    "POST api/v1/deliberation/moderation/comments/<comment_id>/remove": "scoped",
    "GET api/v1/deliberation/topics/<topic_id>/collected-opinions": "public",
    "POST api/v1/deliberation/topics/<topic_id>/collected-opinions": "scoped",
    "GET api/v1/deliberation/meetings/<meeting_id>": "public",
    "POST api/v1/deliberation/meetings/<meeting_id>/open": "scoped",
    "POST api/v1/deliberation/meetings/<meeting_id>/sign-in": "scoped",
    "GET api/v1/deliberation/meetings/<meeting_id>/quorum": "public",
    "GET api/v1/deliberation/meetings/<meeting_id>/roll": "scoped",
    "POST api/v1/deliberation/meetings/<meeting_id>/attendance": "scoped",
    "POST api/v1/deliberation/attendance/<entry_id>/confirm": "scoped",
    "POST api/v1/deliberation/meetings/<meeting_id>/close": "scoped",
    "POST api/v1/deliberation/meetings/<meeting_id>/motions": "scoped",
    "GET api/v1/deliberation/motions/<motion_id>": "public",
    "POST api/v1/deliberation/motions/<motion_id>/ballots": "scoped",
    "GET api/v1/deliberation/motions/<motion_id>/ballots": "public",
    "POST api/v1/deliberation/motions/<motion_id>/paper-ballots": "scoped",
    "GET api/v1/deliberation/motions/<motion_id>/paper-ballots": "scoped",
    "POST api/v1/deliberation/motions/<motion_id>/paper-voters": "scoped",
    "POST api/v1/deliberation/ballots/<ballot_id>/confirm": "scoped",
    "POST api/v1/deliberation/motions/<motion_id>/close": "scoped",
    "GET api/v1/deliberation/motions/<motion_id>/recount": "public",
    "GET api/v1/deliberation/disclosures": "public",
    "POST api/v1/deliberation/disclosures": "signed",
    "GET api/v1/deliberation/disclosures/<disclosure_id>": "public",
    "POST api/v1/deliberation/disclosures/<disclosure_id>/objections": "public",
    "POST api/v1/deliberation/objections/<objection_id>/answer": "scoped",
    "POST api/v1/deliberation/disclosures/<disclosure_id>/complete": "scoped",
    "GET api/v1/duties/power-items": "public",
    "POST api/v1/duties/power-items/<item_id>/decisions": "scoped",
    "GET api/v1/duties/decisions": "public",
    "GET api/v1/duties/responsibilities": "public",
    "POST api/v1/duties/responsibilities": "signed",
    "GET api/v1/duties/goals": "public",
    "POST api/v1/duties/goals/<goal_id>/progress": "scoped",
    "GET api/v1/demands/categories": "public",
    "GET api/v1/demands/rates": "signed",
    "POST api/v1/demands/": "signed",
    "GET api/v1/demands/": "signed",
    "POST api/v1/demands/submissions": "signed",
    "GET api/v1/demands/submissions/<key>": "own",
    "GET api/v1/demands/<number>": "scoped",
    "GET api/v1/demands/<number>/events": "scoped",
    "GET api/v1/demands/<number>/similar": "scoped",
    "POST api/v1/demands/<number>/actions/<action>": "scoped",
    "GET api/v1/demands/supervision/orders": "signed",
    "POST api/v1/demands/supervision/orders": "signed",
    "POST api/v1/demands/supervision/orders/<order_id>/answer": "scoped",
    "POST api/v1/demands/supervision/orders/<order_id>/close": "scoped",
    "POST api/v1/demands/supervision/listings": "signed",
    "GET api/v1/notifications/": "signed",
    "POST api/v1/notifications/read": "signed",
    "POST api/v1/notifications/<notification_id>/read": "own",
    "GET api/v1/notifications/webhook-deliveries": "signed",
    "POST api/v1/duties/decisions/<decision_id>/project": "scoped",
    "POST api/v1/duties/projects/<project_id>/outcome": "scoped",
    "GET api/v1/cases/": "public",
    "GET api/v1/cases/<case_id>": "public",
    "GET api/v1/cases/photos/<photo_id>": "public",
    "POST api/v1/cases/<case_id>/verdict": "scoped",
    "POST api/v1/cases/<case_id>/milestones/<task_id>/progress": "scoped",
    "POST api/v1/cases/<case_id>/milestones/<task_id>/check": "scoped",
    "GET api/v1/cases/<case_id>/receipts": "public",
    "GET api/v1/cases/<case_id>/verify": "public",
}


def kind_of(route: Route) -> str:
    return ROUTES.get(route.key) or API_ROUTES[route.key]


def _override(route: Route) -> Locator | None:
    for prefix, locator in OBJECTS.items():
        if route.pattern.startswith(prefix):
            return locator
    return None


# --- the demo district and who is where -------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The whole demo (district, demands, deliberation, duties, insight), once for the module, rolled back
    at the end; a World from the factories adds a second district, outside every demo login's scope."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            result = demo_module.build_demo()
            from gongzhi.org.tests.factories import World

            World()
            _a_photo_on_every_demand()
            yield result
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _a_photo_on_every_demand() -> None:
    """Photo routes name a demand and one of its photos: give each demo demand one (one stored file)."""
    import io

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from PIL import Image

    from gongzhi.core import clock
    from gongzhi.demands.models import Demand, Photo

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 0, 0)).save(out, "JPEG")
    name = default_storage.save("demands/photos/matrix.jpg", ContentFile(out.getvalue()))
    Photo.objects.bulk_create([Photo(demand_id=pk, stage="report", image=name, thumbnail=name, width=8, height=8,
                                     sha256="0" * 64, uploaded_at=clock.now())
                               for pk in Demand.objects.values_list("pk", flat=True)], batch_size=2000)


def anchors(user) -> list[str]:
    """The paths of the streets (or higher regions) the user holds a post in or lives in."""
    from gongzhi.org.models import Person

    places: list[Region] = []
    person = Person.objects.filter(user=user).select_related("residence").first()
    if person is None:
        return []
    if person.residence_id:
        places.append(person.residence)
    for post in Post.objects.filter(person=person).select_related("organisation__region", "grid", "building__grid"):
        places.append(post.scope_region)
        places.append(post.organisation.region)
    paths = set()
    for place in places:
        parts = place.path.strip("/").split("/")
        # district (1 part) or street (2 parts) stay as they are; below a street, take the street
        paths.add("/" + "/".join(parts[:2]) + "/")
    return sorted(paths)


def scope_paths(user) -> list[str]:
    """The paths of the regions the user's posts act on (a grid, a community, a street …)."""
    return sorted({post.scope_region.path for post in Post.objects.filter(person__user=user)
                   .select_related("organisation__region", "grid", "building__grid")})


# Roles whose posts see everything of their place: inside it, a read must find the object.
INSIDE_STRICT = {"district", "street_secretary", "community_secretary", "village_secretary"}


def unit_ids(user) -> list[int]:
    return list(Post.objects.filter(person__user=user).values_list("organisation_id", flat=True))


def locator_of(route: Route, name: str) -> Locator | None:
    if name in FIXED:
        return None
    return (_override(route) if name == route.params[0] else None) or PARAMS.get(name)


def locate(route: Route, user, *, inside: bool):
    """A value for each id in the route, its object inside or outside the user's scope, and the locator of
    the route's object; None when the demo has no such object."""
    from django.apps import apps

    values = {}
    for name in route.params:
        if name in FIXED:
            values[name] = FIXED[name]
            continue
        locator = locator_of(route, name)
        if locator is None:
            continue
        model = apps.get_model(locator.model)
        rows = model.objects.all()
        paths = (scope_paths(user) if inside else anchors(user)) if user is not None else []
        mine = Q()
        if user is not None:
            for lookup in locator.mine:
                mine |= Q(**{lookup: user})
            units = unit_ids(user)
            for lookup in locator.units:
                mine |= Q(**{f"{lookup}__in": units})
        if not locator.path:  # owned objects: "inside" is one's own
            rows = rows.filter(mine) if inside else rows.exclude(mine) if mine else rows
        else:
            near = Q(pk__in=[])
            for path in paths:
                near |= Q(**{f"{locator.path}__startswith": path})
            if inside:
                rows = rows.filter(near | mine) if user is not None else rows
            else:
                rows = rows.exclude(near).exclude(**{f"{locator.path}__isnull": True})
                if mine:
                    rows = rows.exclude(mine)
        row = rows.order_by("pk").first()
        if row is None:
            return None
        values[name] = getattr(row, locator.value)
        if name == "number" and "event_id" in route.params:
            values["event_id"] = row.events.order_by("pk").first().event_id
        if name == "number" and "photo_id" in route.params:
            values["photo_id"] = row.photos.order_by("pk").first().pk
    for name, default in (("tile_path", "tile/0/000"), ("token_id", "unknown"), ("service_code", "none"),
                          ("index", 0)):
        if name in route.params:
            values[name] = default
    return values


def nowhere(route: Route, values: dict) -> dict:
    """The same values with the route's object replaced by an id that names nothing."""
    import uuid

    name = route.params[0]
    value = values[name]
    if isinstance(value, int):
        missing = 2_000_000_000
    elif isinstance(value, uuid.UUID) or re.fullmatch(r"[0-9a-f-]{36}", str(value)):
        missing = uuid.UUID(int=1)
    elif str(value).isdigit():
        missing = "2099123199999"
    else:
        missing = "no-such-key-0"
    return {**values, name: missing}


def url_for(route: Route, values: dict) -> str:
    url = route.pattern
    for name, value in values.items():
        url = re.sub(rf"\(\?P<{name}>[^)]*\)", lambda _m: str(value), url)
        url = re.sub(rf"<(?:\w+:)?{name}>", lambda _m: str(value), url)
    url = url.replace("^", "").replace("$", "").replace("\\.", ".")
    return "/" + url


ROLES = [plan.username for plan in demo_module.LOGINS if plan.username != "admin"] + ["data_officer", "anonymous"]


def client_for(username: str) -> tuple[Client, dict]:
    from django.contrib.auth import get_user_model

    client = Client(raise_request_exception=False)
    headers = {}
    if username != "anonymous":
        user = get_user_model().objects.get(username=username)
        client.force_login(user)
        _token, raw = ApiToken.issue(user, "matrix")
        headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    return client, headers


def call(client: Client, headers: dict, route: Route, url: str):
    """One request as the route takes it, rolled back; a page that refuses GET is tried with an empty POST.
    Returns the response and how many events it stored."""
    before = Event.objects.count()
    with transaction.atomic():
        if route.method:
            kwargs = dict(headers) if route.pattern.startswith("api/") else {}
            if route.method == "GET":
                response = client.get(url, **kwargs)
            else:
                response = client.generic(route.method, url, "{}", content_type="application/json", **kwargs)
        else:
            response = client.get(url)
            if response.status_code == 405:
                response = client.post(url, {})
        stored = Event.objects.count() - before
        transaction.set_rollback(True)
    return response, stored


# The ledger sequences after commit; inside the rolled-back demo it has no checkpoint yet.
ABSENT_IN_A_ROLLED_BACK_DEMO = {"ledger/checkpoint", "GET api/v1/ledger/checkpoint", "api/v1/"}
# Narrower than the region scope: a demand's photos are seen by its reporter, the units handling it, its desk
# and its grid's worker, not by overseers of the region (demands/photos.py), so an overseer's 404 is right.
DEBUG_ONLY = {"dev/sms/"}  # 404 unless DEBUG (the log SMS backend's outbox)
HANDLERS_ONLY = {"demands/<str:number>/photos/<int:photo_id>.jpg", "demands/<str:number>/photos/<int:photo_id>-thumb.jpg"}
NOT_OBJECTS = {"index", "tile_path", "token_id", "service_code", "path", "event_id"}  # public routes whose value may name nothing


@pytest.mark.parametrize("username", sorted(set(ROLES)))
def test_out_of_scope_is_404_in_scope_is_not_and_nothing_answers_5xx(demo, username):
    """Outside the scope, a private object answers exactly as an id that names nothing (404 to a read) and a
    public one refuses every write; inside, a read finds it; nothing answers 5xx; nothing refused stores."""
    from django.contrib.auth import get_user_model

    user = None if username == "anonymous" else get_user_model().objects.filter(username=username).first()
    if user is None and username != "anonymous":
        pytest.fail(f"the demo has no login {username}")
    client, headers = client_for(username)
    failures, checked = [], 0
    for route in all_routes():
        kind = kind_of(route)
        if kind in ("auth", "ops"):
            continue
        for inside in (True, False):
            if not route.params and not inside:
                continue
            values = locate(route, user, inside=inside) if route.params else {}
            if values is None:
                continue
            url = url_for(route, values)
            response, stored = call(client, headers, route, url)
            checked += 1
            status = response.status_code
            method = response.request["REQUEST_METHOD"]
            where = f"{username} {method} {url} ({'inside' if inside else 'outside'}, {kind})"
            locator = locator_of(route, route.params[0]) if route.params else None
            if status >= 500:
                failures.append(f"{where}: {status}")
            elif user is None and kind in ("scoped", "signed", "own"):
                if status not in (302, 400, 401, 403, 404) or stored:
                    failures.append(f"{where}: anonymous got {status}, stored {stored}")
            elif kind in ("scoped", "own") and not inside and locator is not None:
                if stored:
                    failures.append(f"{where}: out of scope, yet stored {stored} events")
                elif locator.public:
                    if method != "GET" and status not in (400, 403, 404, 409, 422):
                        failures.append(f"{where}: a write on a public object out of scope answered {status}")
                elif method == "GET" and status != 404:
                    failures.append(f"{where}: out of scope answered {status}, not 404")
                elif method != "GET":
                    absent, _ = call(client, headers, route, url_for(route, nowhere(route, values)))
                    if absent.status_code != status:
                        failures.append(f"{where}: out of scope answered {status}, an id naming nothing "
                                        f"{absent.status_code}: the difference tells that it exists")
            elif inside and method == "GET" and status == 404 and not (set(route.params) & NOT_OBJECTS) \
                    and route.key not in ABSENT_IN_A_ROLLED_BACK_DEMO and route.key not in HANDLERS_ONLY \
                    and route.key not in DEBUG_ONLY:
                if kind == "public" or (kind == "scoped" and username in INSIDE_STRICT):
                    failures.append(f"{where}: an object in scope answered 404")
    assert checked > 50
    assert not failures, f"{len(failures)} of {checked} checks failed:\n" + "\n".join(failures)


# --- HEAD on every GET route (RFC 9110 §9.1), on the same demo -----------------------------------------

# Headers whose value is per response, not per resource: never_cache sets Expires to the moment of the response, so a
# slow page (/metrics reads its gauges) answered across a second boundary has a GET and a HEAD a second apart.
PER_RESPONSE = {"Set-Cookie", "Date", "Expires"}


def test_head_answers_every_get_route_as_get_does_without_the_body(demo):
    """Signed in as the administrator, HEAD answers with GET's status and headers and no body, and is
    refused exactly where GET is (the ledger's checkpoint and tiles, which need a sequenced log, are in
    gongzhi/ledger/tests/test_head.py)."""
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.get(username="admin")
    client = Client(raise_request_exception=False)
    client.force_login(admin)
    _token, raw = ApiToken.issue(admin, "head")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    answered, problems = {}, []
    for route in all_routes():
        if route.method not in ("", "GET"):
            continue
        values = locate(route, None, inside=True) if route.params else {}
        if values is None:
            continue
        url = url_for(route, values)
        headers = bearer if url.startswith("/api/") else {}
        got, head = client.get(url, **headers), client.head(url, **headers)
        answered[route.pattern] = got.status_code
        if head.status_code != got.status_code:
            problems.append(f"{url}: HEAD {head.status_code}, GET {got.status_code}")
        elif (b"".join(head.streaming_content) if head.streaming else head.content):
            problems.append(f"{url}: HEAD has a body")
        elif set(head.headers) != set(got.headers):
            problems.append(f"{url}: headers {sorted(set(head.headers) ^ set(got.headers))} differ")
        elif any(head[name] != got[name] for name in got.headers if name not in PER_RESPONSE | {"Content-Length"}):
            problems.append(f"{url}: header values differ")
    assert problems == [], "\n".join(problems)
    ok = sorted(p for p, status in answered.items() if status == 200)
    assert len(ok) >= 50, answered
    for pattern in ("ledger/", r"open311/v2/^discovery\.(?P<fmt>[A-Za-z0-9]+)$", "api/v1/openapi.json", "",
                    r"open311/v2/^requests\.(?P<fmt>[A-Za-z0-9]+)$", "api/v1/demands/<number>", "demands/<str:number>/"):
        assert answered[pattern] == 200, pattern


# --- ids named inside a request (body or query) ------------------------------------------------------
# Each case: a route whose own object is in the caller's scope, and a body or query naming another object.
# Named out of scope, it must be refused exactly as an id that names nothing (so the answer does not tell
# that it exists), with a 4xx, storing nothing; named in scope, it must not be refused that way.


@dataclass(frozen=True)
class Reference:
    name: str
    method: str
    route: str  # URL with {number} / {item} / {person} placeholders for the path object
    path: tuple[str, Locator, Q] | None  # placeholder, locator and filter of the in-scope path object
    named: Locator  # what the body or query names
    build: object  # (value, {"organisation": id, "person": id} in scope) -> {"json": body} or {"query": params}


ORGANISATION = Locator("org.Organisation", "region__path")
REGION = Locator("org.Region", "path")
PERSON = Locator("org.Person", "residence__path")
HOUSEHOLD = Locator("org.Household", "building__grid__path")
MOTION = Locator("deliberation.Motion", "meeting__body__region__path", public=True)
GRID = Locator("org.Region", "path")
REFERENCES = [
    Reference("a dispatch's lead unit", "POST", "/api/v1/demands/{number}/actions/dispatch",
              ("number", DEMAND, Q(state="received")), ORGANISATION, lambda v, here: {"json": {"unit_id": v}}),
    Reference("a dispatch's assisting unit", "POST", "/api/v1/demands/{number}/actions/dispatch",
              ("number", DEMAND, Q(state="received")), ORGANISATION,
              lambda v, here: {"json": {"assisting_unit_ids": [v]}}),
    Reference("a merge's original", "POST", "/api/v1/demands/{number}/actions/merge",
              ("number", DEMAND, Q(state="received")), DEMAND, lambda v, here: {"json": {"original": v}}),
    Reference("the grid of a building list", "GET", "/api/v1/org/buildings", None,
              Locator("org.Region", "path"), lambda v, here: {"query": {"grid": v}}),
    Reference("the parent of a region list", "GET", "/api/v1/org/regions", None, REGION,
              lambda v, here: {"query": {"parent": v}}),
    Reference("the region of an organisation list", "GET", "/api/v1/org/organisations", None, REGION,
              lambda v, here: {"query": {"region": v}}),
    Reference("the organisation of a post list", "GET", "/api/v1/org/posts", None, ORGANISATION,
              lambda v, here: {"query": {"organisation": v}}),
    Reference("the person of a post list", "GET", "/api/v1/org/posts", None, PERSON,
              lambda v, here: {"query": {"person": v}}),
    Reference("the household of a people list", "GET", "/api/v1/org/people", None, HOUSEHOLD,
              lambda v, here: {"query": {"household": v}}),
    Reference("the person appointed to a post", "POST", "/api/v1/org/posts", None, PERSON,
              lambda v, here: {"json": {"person_id": v, "organisation_id": here["organisation"], "role": "staff",
                                        "start_date": "2026-01-01"}}),
    Reference("the organisation of a post", "POST", "/api/v1/org/posts", None, ORGANISATION,
              lambda v, here: {"json": {"person_id": here["person"], "organisation_id": v, "role": "staff",
                                        "start_date": "2026-01-01"}}),
    Reference("the region of a monthly report", "GET", "/report/", None, REGION,
              lambda v, here: {"query": {"region": v}}),
    Reference("the region of a monthly report's PDF", "GET", "/report/report.pdf", None, REGION,
              lambda v, here: {"query": {"region": v}}),
    Reference("the motion a decision rests on", "POST", "/api/v1/duties/power-items/{item}/decisions",
              ("item", PARAMS["item_id"], Q()), MOTION,
              lambda v, here: {"json": {"title": "修缮村道", "motion_id": v}}),
    Reference("the responsible unit of a decision's project", "POST", "/api/v1/duties/decisions/{decision}/project",
              ("decision", PARAMS["decision_id"], Q(project__isnull=True)), ORGANISATION,
              lambda v, here: {"json": {"unit_id": v, "milestones": [{"title": "施工", "deadline": "2099-01-01"}]}}),
]
REFERENCE_ROLES = ["street_secretary", "community_secretary", "village_secretary"]


def _named(locator: Locator, user, *, inside: bool):
    from django.apps import apps

    rows = apps.get_model(locator.model).objects.all()
    paths = scope_paths(user) if inside else anchors(user)
    near = Q(pk__in=[])
    for path in paths:
        near |= Q(**{f"{locator.path}__startswith": path})
    rows = rows.filter(near) if inside else rows.exclude(near).exclude(**{f"{locator.path}__isnull": True})
    if locator.model == "org.Region":
        rows = rows.filter(level=Region.Level.GRID) if inside else rows
    row = rows.order_by("pk").first()
    return getattr(row, locator.value) if row is not None else None


def _missing(value):
    return "2099123199999" if isinstance(value, str) else 2_000_000_000


@pytest.mark.parametrize("username", REFERENCE_ROLES)
def test_ids_named_in_a_request_are_checked_against_the_scope_like_the_path(demo, username):
    from django.apps import apps
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)
    client, headers = client_for(username)
    failures, checked = [], 0
    for ref in REFERENCES:
        url = ref.route
        if ref.path:
            placeholder, locator, extra = ref.path
            near = Q(pk__in=[])
            for path in scope_paths(user):
                near |= Q(**{f"{locator.path}__startswith": path})
            row = apps.get_model(locator.model).objects.filter(near, extra).order_by("pk").first()
            if row is None:
                continue
            url = url.replace("{" + placeholder + "}", str(getattr(row, locator.value)))
        outside = _named(ref.named, user, inside=False)
        if outside is None:
            continue
        here = {"organisation": _named(ORGANISATION, user, inside=True), "person": _named(PERSON, user, inside=True)}
        answers = {}
        for label, value in (("outside", outside), ("nothing", _missing(outside))):
            request = ref.build(value, here)
            before = Event.objects.count()
            with transaction.atomic():
                if ref.method == "GET":
                    response = client.get(url, request.get("query", {}), **headers)
                else:
                    response = client.post(url, request.get("json", {}), content_type="application/json", **headers)
                stored = Event.objects.count() - before
                transaction.set_rollback(True)
            answers[label] = (response.status_code, _code(response), stored)
        checked += 1
        (status, code, stored), (absent_status, absent_code, _) = answers["outside"], answers["nothing"]
        where = f"{username}: {ref.name} ({ref.method} {url})"
        if not 400 <= status < 500 or stored:
            failures.append(f"{where}: an object out of scope answered {status}, stored {stored}")
        elif not ref.named.public and (status, code) != (absent_status, absent_code):
            failures.append(f"{where}: out of scope {status} {code}, naming nothing {absent_status} {absent_code}")
    assert checked >= 6, f"only {checked} cases found their objects"
    assert not failures, "\n".join(failures)


def _code(response) -> str | None:
    try:
        return response.json().get("code")
    except ValueError:
        return None
