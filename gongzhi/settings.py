"""Django settings, read from the environment so one build serves the demo, tests and production.

DATABASE_URL          default sqlite:///<repo>/var/gongzhi.sqlite3
GONGZHI_SECRET_KEY    default: generated once and kept in var/secret_key
GONGZHI_VAR_DIR       where runtime files live (default <repo>/var)
DEBUG                 "1"/"true" to enable; off by default
GONGZHI_ALLOWED_HOSTS comma-separated; default localhost names
GONGZHI_LEDGER_*      the transparency log: origin, key path, sequencer mode (see gongzhi/ledger/services.py)
"""

import datetime
import importlib.util
import json
import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("GONGZHI_VAR_DIR", BASE_DIR / "var"))
if os.environ.get("PYTEST_XDIST_WORKER"):
    # Parallel test workers each keep their own keys, models and files, so none races another.
    VAR_DIR = VAR_DIR / os.environ["PYTEST_XDIST_WORKER"]
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> tuple[str, bool]:
    """The key, and whether this process has just created it (nothing can depend on it yet)."""
    key = os.environ.get("GONGZHI_SECRET_KEY")
    if key:
        return key, False
    path = VAR_DIR / "secret_key"
    created = False
    if not path.exists():
        # Create with owner-only permissions; never overwrite an existing key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        created = True
    return path.read_text().strip(), created


# GONGZHI_SECRET_KEY_NEW: created by this very process, so `gongzhi restore` on a new machine may replace it with
# the backup's key (which sealed the restored ballots) instead of refusing over a key nothing uses yet.
SECRET_KEY, GONGZHI_SECRET_KEY_NEW = _secret_key()
DEBUG = _truthy(os.environ.get("DEBUG"))
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("GONGZHI_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]
# Behind HTTPS set e.g. GONGZHI_CSRF_TRUSTED_ORIGINS=https://gongzhi.example.gov.cn and GONGZHI_HTTPS=1.
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("GONGZHI_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]
# GONGZHI_HTTPS=1: served over HTTPS only. Plain HTTP is redirected, browsers are told to use HTTPS for
# GONGZHI_HSTS_SECONDS (a year by default; subdomains included, preload allowed) and cookies are sent over
# HTTPS only. Behind a reverse proxy that ends TLS (GONGZHI_PROXY_COUNT > 0) the proxy must set
# X-Forwarded-Proto, replacing any value the client sent.
GONGZHI_HTTPS = _truthy(os.environ.get("GONGZHI_HTTPS"))
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = GONGZHI_HTTPS or _truthy(os.environ.get("GONGZHI_SECURE_COOKIES"))
if GONGZHI_HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = int(os.environ.get("GONGZHI_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if int(os.environ.get("GONGZHI_PROXY_COUNT", "0")) > 0:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Health probes and metrics scrapes on the machine itself reach gunicorn over plain HTTP (docs/deployment.md).
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SECURE_CONTENT_TYPE_NOSNIFF = True  # X-Content-Type-Options: nosniff
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts only from our own static files, never inline or eval'd
# (htmx runs with allowEval off, see web/base.html). Styles may be inline: plotly and htmx inject <style>
# elements and a few templates set a bar's width in a style attribute. Maps and charts draw on canvas
# and in workers from blob: URLs; no tile server or CDN is contacted.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
NINJA_PAGINATION_MAX_LIMIT = 500

# Maps (Leaflet, django-leaflet's bundled files). A base map from a tile server, e.g. the office's own or
# 天地图 with its key: "https://t0.tianditu.gov.cn/vec_w/wmts?...&tk=KEY" style URLs, with {z}/{x}/{y}. Without
# one, maps draw the district's own layers (grids and their names) on a plain background. Coordinates are
# stored in WGS-84 (CGCS2000 differs by centimetres): tiles in GCJ-02 (高德, 腾讯) would shift every point
# by a few hundred metres, so use WGS-84/CGCS2000 tiles such as 天地图's.
GONGZHI_MAP_TILES = os.environ.get("GONGZHI_MAP_TILES", "")
# Changes the service worker's cache name (web/sw.js): set it at each release so phones fetch the new shell.
GONGZHI_SHELL_VERSION = os.environ.get("GONGZHI_SHELL_VERSION", "1")
GONGZHI_MAP_ATTRIBUTION = os.environ.get("GONGZHI_MAP_ATTRIBUTION", "")
if GONGZHI_MAP_TILES:
    from urllib.parse import urlsplit as _urlsplit

    _tiles = _urlsplit(GONGZHI_MAP_TILES.replace("{s}", "a"))
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(
        f"{_tiles.scheme}://{_tiles.netloc.replace('a.', '*.', 1) if '{s}' in GONGZHI_MAP_TILES else _tiles.netloc}")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_htmx",
    "gongzhi.core",  # before django_tasks_db: its `db_worker` command is replaced by core's (core/taskworker.py)
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "gongzhi.ledger",
    "gongzhi.org",
    "gongzhi.deliberation",
    "gongzhi.duties",
    "gongzhi.demands",
    "gongzhi.patrol",
    "gongzhi.care",
    "gongzhi.insight",
    "gongzhi.cases",
    "gongzhi.web",
    "django_prometheus",
    "gongzhi.ops",  # health, readiness and metrics: reads every app above, none imports it
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",  # first and last: times the whole request
    "gongzhi.core.head.HeadAsGetMiddleware",  # first: HEAD is answered as GET without the body
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "gongzhi.core.middleware.ApiErrorsAsJsonMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "gongzhi.core.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "gongzhi.core.ratelimit.RetryAfterMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gongzhi.web.roles.ActingPostMiddleware",  # after the user is known: the post chosen in the header
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out sign-in into the lock-out page
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "gongzhi.urls"
WSGI_APPLICATION = "gongzhi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gongzhi.web.context.unread_messages",
                "gongzhi.web.context.who_and_menu",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'gongzhi.sqlite3'}"),
        conn_max_age=int(os.environ.get("GONGZHI_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a writer commits; IMMEDIATE avoids
    # lock-upgrade deadlocks between concurrent writers.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("GONGZHI_TEST_DB_NAME")} if os.environ.get(
    "GONGZHI_TEST_DB_NAME"
) else {}

# Beyond one server (docs/deployment.md, "From one server to a city"). Each piece is off until its setting says:
# GONGZHI_REPLICA_URL: a PostgreSQL streaming replica that serves the cockpit's and the public pages' reads
# (GET under GONGZHI_REPLICA_PATHS, comma-separated prefixes); writes, transactions and a browser that wrote
# in the last GONGZHI_REPLICA_STICKY_SECONDS (10) read the primary (gongzhi/core/dbrouter.py).
if os.environ.get("GONGZHI_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(os.environ["GONGZHI_REPLICA_URL"],
                                                 conn_max_age=DATABASES["default"]["CONN_MAX_AGE"])
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["gongzhi.core.dbrouter.ReplicaRouter"]
    # Right after HEAD becomes GET, before the session is read.
    MIDDLEWARE.insert(MIDDLEWARE.index("gongzhi.core.head.HeadAsGetMiddleware") + 1,
                      "gongzhi.core.dbrouter.ReplicaReadsMiddleware")
    if os.environ.get("GONGZHI_REPLICA_PATHS"):
        GONGZHI_REPLICA_PATHS = [p.strip() for p in os.environ["GONGZHI_REPLICA_PATHS"].split(",") if p.strip()]
    GONGZHI_REPLICA_STICKY_SECONDS = float(os.environ.get("GONGZHI_REPLICA_STICKY_SECONDS", "10"))
# GONGZHI_PGBOUNCER=1: the databases are reached through PgBouncer in transaction pooling, where a session's
# state does not outlive its transaction: no server-side cursors (.iterator() fetches in chunks instead) and
# no prepared statements (psycopg prepares a query run 5 times otherwise). Nothing else in gongzhi keeps
# session state (no advisory locks, LISTEN or SET outside a transaction; Django's SET TIME ZONE is a
# parameter PgBouncer restores on each server connection it hands over).
if _truthy(os.environ.get("GONGZHI_PGBOUNCER")):
    for _database in DATABASES.values():
        if _database["ENGINE"] == "django.db.backends.postgresql":
            _database["DISABLE_SERVER_SIDE_CURSORS"] = True
            _database.setdefault("OPTIONS", {})["prepare_threshold"] = None

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Argon2id for new and changed passwords; PBKDF2 stays listed so existing hashes still verify (Django
# rehashes them with Argon2 at the next sign-in).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

# Sign-in lock-out (django-axes): after GONGZHI_LOGIN_FAILURE_LIMIT wrong passwords for one username, or
# from one address, sign-in (/accounts/login/ and /admin/login/) is refused for
# GONGZHI_LOGIN_COOLOFF_MINUTES. Unlock early: `gongzhi axes_reset_username NAME`, `gongzhi axes_reset_ip ADDR`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "gongzhi.org.backends.PhoneBackend",  # a resident signs in with their mobile number (org/accounts.py)
]
AXES_FAILURE_LIMIT = int(os.environ.get("GONGZHI_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("GONGZHI_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each counted on its own: per user, per address
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "gongzhi.web.lockout.locked_out"
AXES_CLIENT_IP_CALLABLE = "gongzhi.core.clientaddress.client_address"
# How many reverse proxies in front of gongzhi append to X-Forwarded-For (0: use the socket's address).
GONGZHI_PROXY_COUNT = int(os.environ.get("GONGZHI_PROXY_COUNT", "0"))

# Rate limits on public and resident writes (gongzhi/core/ratelimit.py, docs/decisions/0007-rate-limits.md):
# for each kind of write, at most N per user and per address in a window ("30/h", "100/10m"; null: none).
# Open311's "user" is the client's API key. GONGZHI_RATE_LIMITS (JSON) overrides single entries, e.g.
# GONGZHI_RATE_LIMITS='{"file_demand": {"user": "60/h"}, "receipt_check": {"address": null}}'.
GONGZHI_RATE_LIMITS = {
    "file_demand": {"user": "30/h", "address": "300/h"},  # web form, API, fast path
    "open311_request": {"user": "1000/h", "address": "1000/h"},
    "statement": {"user": "30/h", "address": "300/h"},
    "statement_vote": {"user": "600/h", "address": "3000/h"},
    "objection": {"user": "10/h", "address": "100/h"},
    "topic": {"user": "5/h", "address": "50/h"},  # a resident's proposal
    "comment": {"user": "30/h", "address": "300/h"},
    "report": {"user": "20/h", "address": "200/h"},  # reporting a comment or a statement to moderators
    "receipt_check": {"user": "300/h", "address": "300/h"},
    "track": {"address": "60/h"},  # a guest looking up a demand by number and 查询码 (demands/guests.py)
    "phone_code": {"address": "30/h"},  # text-message codes asked for (core/phone_codes.py limits each number)
    "sign_up": {"address": "30/h"},  # sign-ups and new passwords tried from one address
    "me_too": {"user": "60/h", "address": "300/h"},  # "me too" on a demand nearby (demands/nearby.py)
}
for _kind, _limits in json.loads(os.environ.get("GONGZHI_RATE_LIMITS") or "{}").items():
    GONGZHI_RATE_LIMITS[_kind] = {**GONGZHI_RATE_LIMITS.get(_kind, {}), **_limits}
# The counters live in files under var/ratelimit, shared by every worker process of this machine (atomic
# increments under a file lock). Several machines behind one address need a shared cache instead.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {
        "BACKEND": "gongzhi.core.ratelimit.LockedFileCache",
        "LOCATION": str(VAR_DIR / "ratelimit"),
        "OPTIONS": {"MAX_ENTRIES": 20_000},
    },
}
RATELIMIT_USE_CACHE = "ratelimit"
RATELIMIT_FAIL_OPEN = True  # a broken counter store must not stop residents from filing

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "gongzhi" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# plotly.min.js ships inside the plotly wheel: served as static/plotly/plotly.min.js, no CDN.
# (The folder also holds plotly's sample datasets; staticfiles can only take whole folders.)
STATICFILES_DIRS = [
    ("plotly", Path(importlib.util.find_spec("plotly").submodule_search_locations[0]) / "package_data"),
    # Leaflet as django-leaflet bundles it (leaflet.js, leaflet.css, the marker images), served as
    # static/leaflet/…; the app itself is not installed (its form widgets need GeoDjango, which we do not use).
    ("leaflet", Path(importlib.util.find_spec("leaflet").submodule_search_locations[0]) / "static" / "leaflet"),
]
# Uploaded files (photos of demands) under var/media, never served as static files: each is answered by a
# view that checks who asks (demands/photos.py). An S3-compatible store: docs/operations.md.
MEDIA_ROOT = Path(os.environ.get("GONGZHI_MEDIA_ROOT", VAR_DIR / "media"))
GONGZHI_PHOTO_MAX_BYTES = int(os.environ.get("GONGZHI_PHOTO_MAX_BYTES", str(10 * 1024 * 1024)))
# Patrol (gongzhi/patrol): a check-in farther than this from its place (metres) is accepted and flagged.
GONGZHI_PATROL_CHECK_IN_RADIUS_M = float(os.environ.get("GONGZHI_PATROL_CHECK_IN_RADIUS_M", "300"))
# The case file (cases app): how many days the residents who raised a problem are asked, once its project is
# done, whether it is solved; and the share of them saying "not solved" above which the project is reopened.
GONGZHI_CASE_VERDICT_DAYS = int(os.environ.get("GONGZHI_CASE_VERDICT_DAYS", "14"))
GONGZHI_CASE_REOPEN_SHARE = float(os.environ.get("GONGZHI_CASE_REOPEN_SHARE", "0.5"))
DATA_UPLOAD_MAX_NUMBER_FILES = 12
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# WhiteNoise serves the collected files in production; in DEBUG/tests it serves
# straight from the finders so no collectstatic is needed.
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads it to send X-CSRFToken

# The transparency log (gongzhi/ledger). "inline": writers sequence their own events right after
# commit (group commit); "loop": only `gongzhi ledger sequence --forever` does.
GONGZHI_LEDGER_ORIGIN = os.environ.get("GONGZHI_LEDGER_ORIGIN", "gongzhi.local/ledger")
GONGZHI_LEDGER_KEY = Path(os.environ.get("GONGZHI_LEDGER_KEY", VAR_DIR / "ledger" / "signing.key"))
# The last checkpoint the sequencer signed and so published, kept outside the database: the sequencer refuses to
# sign while the database's log lacks it (after a restore; gongzhi/ledger/published.py, decision 0011). Backups
# neither hold nor overwrite it. "" switches it off (only for throwaway logs, e.g. the in-process test suite).
GONGZHI_LEDGER_PUBLISHED = os.environ.get("GONGZHI_LEDGER_PUBLISHED", str(VAR_DIR / "ledger" / "published-checkpoint"))
# Rankings by the three rates (gongzhi/demands/ranking.py; docs/rules.md "Ranking by the three rates"):
# fewer cases than GONGZHI_RANKING_MIN_CASES in the period: not ranked (样本不足); any rate below
# GONGZHI_RANKING_FLOOR (a share): flagged, ranked below every unit that is not. The score's weights:
# GONGZHI_DEMANDS_SCORE_WEIGHTS, JSON such as {"response": 0.1, "resolution": 0.3, "satisfaction": 0.6}
# (unset: demands.rules.DEFAULT_SCORE_WEIGHTS).
GONGZHI_RANKING_MIN_CASES = int(os.environ.get("GONGZHI_RANKING_MIN_CASES", "5"))
GONGZHI_RANKING_FLOOR = float(os.environ.get("GONGZHI_RANKING_FLOOR", "0.6"))
# A unit's standing above its work queue (its rank this month and last) is read from the cache for this long
# per pool and period, not counted on every load (about a second at 10M demands); 0: counted on every load.
GONGZHI_STANDING_CACHE_SECONDS = int(os.environ.get("GONGZHI_STANDING_CACHE_SECONDS", "300"))
if os.environ.get("GONGZHI_DEMANDS_SCORE_WEIGHTS"):
    GONGZHI_DEMANDS_SCORE_WEIGHTS = json.loads(os.environ["GONGZHI_DEMANDS_SCORE_WEIGHTS"])
# A demand filed without a category takes the classifier's proposal at or above this confidence; below it,
# the proposal is shown at the dispatch desk (least confident first) and a person decides.
GONGZHI_AUTO_CLASSIFY_CONFIDENCE = float(os.environ.get("GONGZHI_AUTO_CLASSIFY_CONFIDENCE", "0.9"))
# Open311 POST answers with a token (filed by the intake worker) instead of filing in the request.
GONGZHI_OPEN311_TOKENS = _truthy(os.environ.get("GONGZHI_OPEN311_TOKENS"))
# At most this many reveals of residents' personal data per user in any hour, counted from the access
# log in the database (so it holds across processes); more answer 429 rate_limited.
GONGZHI_REVEALS_PER_HOUR = int(os.environ.get("GONGZHI_REVEALS_PER_HOUR", "30"))
# Deliberation moderation (as Decidim): a topic or comment reported by this many different people is hidden
# pending an officer's review; and residents' new topics are held until an officer approves them.
GONGZHI_REPORTS_TO_HIDE = int(os.environ.get("GONGZHI_REPORTS_TO_HIDE", "3"))
GONGZHI_TOPIC_PREMODERATION = not os.environ.get("GONGZHI_TOPIC_PREMODERATION", "1").lower() in ("0", "false", "no")
GONGZHI_LEDGER_SEQUENCER = os.environ.get("GONGZHI_LEDGER_SEQUENCER", "inline")
GONGZHI_LEDGER_BATCH_SIZE = int(os.environ.get("GONGZHI_LEDGER_BATCH_SIZE", "2000"))
# Witness keys (cosignature/v1 vkeys, comma-separated) whose cosignatures POST /api/v1/ledger/cosignatures
# accepts and /ledger/checkpoint then serves (`gongzhi ledger witness-keygen NAME` makes one).
GONGZHI_LEDGER_WITNESSES = [
    key.strip() for key in os.environ.get("GONGZHI_LEDGER_WITNESSES", "").split(",") if key.strip()
]

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# GONGZHI_TASKS_REDIS_URL (redis://127.0.0.1:6379/0): the tasks go to Redis and an RQ worker runs them
# (django-tasks-rq): `gongzhi rqworker default --with-scheduler --job-class django_tasks_rq.backend.Job` instead
# of `gongzhi db_worker`.
if os.environ.get("GONGZHI_TASKS_REDIS_URL"):
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {"default": {"URL": os.environ["GONGZHI_TASKS_REDIS_URL"], "DEFAULT_TIMEOUT": 300}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}

# Health and metrics (gongzhi/ops; docs/deployment.md). /health/ready/ answers 503 when the worker's last heartbeat
# is older than GONGZHI_HEALTH_HEARTBEAT_INTERVALS × its sweep interval, when the oldest event waiting for the
# ledger's sequencer is older than GONGZHI_HEALTH_SEQUENCER_LAG_SECONDS, or when GONGZHI_VAR_DIR's disk has less than
# GONGZHI_HEALTH_MIN_FREE_MB free. /metrics answers requests straight from this machine (loopback, not through a
# proxy; GONGZHI_METRICS_LOOPBACK=0 turns that off) and those bearing GONGZHI_METRICS_TOKEN; others get 404.
GONGZHI_HEALTH_HEARTBEAT_INTERVALS = float(os.environ.get("GONGZHI_HEALTH_HEARTBEAT_INTERVALS", "3"))
GONGZHI_HEALTH_SEQUENCER_LAG_SECONDS = float(os.environ.get("GONGZHI_HEALTH_SEQUENCER_LAG_SECONDS", "120"))
GONGZHI_HEALTH_MIN_FREE_MB = float(os.environ.get("GONGZHI_HEALTH_MIN_FREE_MB", "1024"))
GONGZHI_METRICS_TOKEN = os.environ.get("GONGZHI_METRICS_TOKEN", "")

# Text messages (core/sms.py): the dotted path of a class with send(phone, text); the default logs and keeps them.
GONGZHI_SMS_BACKEND = os.environ.get("GONGZHI_SMS_BACKEND", "") or "gongzhi.core.sms.LogBackend"
GONGZHI_METRICS_LOOPBACK = os.environ.get("GONGZHI_METRICS_LOOPBACK", "1").strip().lower() not in ("0", "false", "no", "off")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "gongzhi": {"handlers": ["console"], "level": os.environ.get("GONGZHI_LOG_LEVEL", "INFO")},
        # Every 500 logged with its traceback, also outside DEBUG (Django's default only mails admins).
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # A failing readiness check is answered in /health/ready/'s JSON; only a check's own crash is logged.
        "health_check": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}
