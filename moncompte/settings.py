"""Settings of Mon Compte. Every value a deployer may change is an environment variable, listed in the README.

The embedded default (no variable set) is a single machine: SQLite, a local outbox for e-mail and SMS, Celery
tasks run eagerly. Production sets DATABASE_URL (PostgreSQL), REDIS_URL, EMAIL_URL and SMS_GATEWAY_URL.
"""

import re
import secrets
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()


def _local_secret(name: str) -> str:
    """A random secret kept in var/ so that a development machine needs no configuration and commits no secret."""
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret("secret_key")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The site's address: every link in a message is built from it (moncompte.lib.links), never from the request's Host,
# which the client chooses (ALLOWED_HOSTS does not check the port). Required unless DEBUG: a deployment without it
# refuses to start rather than mail links to localhost. Under DEBUG it defaults to the local server's address.
SITE_URL = env.str("SITE_URL", default=f"http://localhost:{env.int('PORT', default=8000)}" if DEBUG else "")
if not re.fullmatch(r"https?://[^/?#\s]+/?", SITE_URL):
    raise ImproperlyConfigured(
        "SITE_URL must be set to the site's address, scheme and host only (e.g. https://moncompte.example); "
        f"it is {SITE_URL!r}."
    )
SITE_URL = SITE_URL.rstrip("/")

INSTALLED_APPS = [
    # The admin site of agents: a verified second factor for every page (moncompte.accounts.admin_site).
    "moncompte.accounts.admin_config.AgentAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "dsfr",
    "widget_tweaks",
    "axes",
    "csp",
    # The agents' second factor (before the apps whose admin modules unregister its admin: accounts/admin.py).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rules.apps.AutodiscoverRulesConfig",
    "moncompte.journal",
    "moncompte.messaging",
    "moncompte.identity",
    "moncompte.verification",
    "moncompte.households",
    "moncompte.legacy",
    "moncompte.accounts",
    "moncompte.signup",
    "moncompte.franceconnect",
    "moncompte.partners",
    "moncompte.procedures",
    "moncompte.agency",
    "moncompte.incidents",
    # The web channel (DESIGN §4): its shared frame, then one app per area.
    "moncompte.web",
    "moncompte.web.account",
    "moncompte.web.myspace",
    "moncompte.web.household",
    "moncompte.web.case",
    "moncompte.web.procedures",
    "moncompte.web.signup",
    "moncompte.web.pages",
    "moncompte.web.franceconnect",
    # The phone channel: the voice server's webhooks (moncompte/phone).
    "moncompte.phone",
    # The agents' desk: their sign-in with a second factor, and the screens that receive a person (moncompte/desk).
    "moncompte.desk",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "moncompte.accounts.middleware.NoStoreMiddleware",
    "moncompte.web.closure.ClosedServiceMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "moncompte.verification.context.CodeBindingMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "moncompte.accounts.middleware.SessionLifetimeMiddleware",
    "moncompte.accounts.middleware.DeviceCookieMiddleware",
    "moncompte.journal.middleware.JournalContextMiddleware",
    "moncompte.journal.middleware.ReadRecordingMiddleware",
    "moncompte.accounts.middleware.MigrationGateMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "moncompte.urls"
WSGI_APPLICATION = "moncompte.wsgi.application"
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

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
                "moncompte.context_processors.site",
            ],
        },
    },
    {
        # E-mails and SMS are plain text: no HTML escaping ("N'Diaye", not "N&#x27;Diaye"). messaging uses it.
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

# --- Data stores -----------------------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several gunicorn workers share the file. WAL: readers never wait for a writer, and a commit appends to the log
    # instead of creating, syncing and deleting a rollback journal. IMMEDIATE: a transaction takes the write lock at
    # BEGIN and waits for it, rather than failing with "database is locked" when it turns from reading to writing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        init_command="PRAGMA journal_mode=WAL;", transaction_mode="IMMEDIATE"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="moncompte"),
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    # Embedded mode: the cache (and so its counters: failed logins per NIR and per address, birth-date tries, codes
    # to typed contacts) lives in the database, shared by every gunicorn worker; `make run` creates its table
    # (`manage.py createcachetable`). DatabaseCache's incr() is a get then a set, not atomic: two workers counting
    # the same key at the same instant may lose one count. Acceptable on one machine; production uses Redis' INCR.
    # MAX_ENTRIES: past it the cache drops a third of its keys, so a flood of new keys must not wipe the counters.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "cache_table",
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Accounts and passwords ------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.Account"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "moncompte.accounts.authentication.NirBackend",
    "moncompte.accounts.authentication.StaffBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:dashboard"

# Argon2id parameters (OWASP minimum by default). Changing them re-hashes each password at its next login.
ARGON2_MEMORY_COST = env.int("ARGON2_MEMORY_COST", default=19 * 1024)  # KiB
ARGON2_TIME_COST = env.int("ARGON2_TIME_COST", default=2)
ARGON2_PARALLELISM = env.int("ARGON2_PARALLELISM", default=1)
PASSWORD_HASHERS = [
    "moncompte.accounts.hashers.ConfiguredArgon2PasswordHasher",
    "moncompte.accounts.hashers.CasePinHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# Password rules (DESIGN §3). The composition rule and the 24-character maximum are the agency's rule, shown on the
# login page; docs/decisions/009 states how they deviate from OWASP ASVS 5.0 6.2.5 and 6.2.9, and what mitigates it.
PASSWORD_MIN_LENGTH = env.int("PASSWORD_MIN_LENGTH", default=8)
PASSWORD_MAX_LENGTH = env.int("PASSWORD_MAX_LENGTH", default=24)
# ASVS 6.2.9 wants at least 64 characters allowed; above 128 the forms refuse the field itself
# (moncompte.web.forms.MAX_SECRET_LENGTH).
PASSWORD_MAX_LENGTH_LIMIT = 128
if not PASSWORD_MIN_LENGTH <= PASSWORD_MAX_LENGTH <= PASSWORD_MAX_LENGTH_LIMIT:
    raise ImproperlyConfigured(
        f"PASSWORD_MAX_LENGTH must be between PASSWORD_MIN_LENGTH ({PASSWORD_MIN_LENGTH}) and "
        f"{PASSWORD_MAX_LENGTH_LIMIT}; it is {PASSWORD_MAX_LENGTH}."
    )
#: At least one lowercase letter, one uppercase letter and one digit (the agency's rule; ASVS 6.2.5 advises against).
PASSWORD_REQUIRE_CHARACTER_CLASSES = env.bool("PASSWORD_REQUIRE_CHARACTER_CLASSES", default=True)
PASSWORD_MIN_ENTROPY_BITS = env.int("PASSWORD_MIN_ENTROPY_BITS", default=50)
#: Lists of breached passwords of the deployer's own (one a line, UTF-8, .gz or not), added to zxcvbn's (ASVS 6.2.12).
PASSWORD_BREACHED_EXTRA_LISTS = env.list("PASSWORD_BREACHED_EXTRA_LISTS", default=[])
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "moncompte.accounts.validators.LengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH, "max_length": PASSWORD_MAX_LENGTH},
    },
    *(
        [{"NAME": "moncompte.accounts.validators.CharacterClassesValidator"}]
        if PASSWORD_REQUIRE_CHARACTER_CLASSES
        else []
    ),
    {"NAME": "moncompte.accounts.validators.CnilEntropyValidator", "OPTIONS": {"min_bits": PASSWORD_MIN_ENTROPY_BITS}},
    {"NAME": "moncompte.accounts.validators.FrenchCommonPasswordValidator"},
    # Offline, from VAR_DIR/breached-passwords/ (built by `manage.py build_breached_passwords` or on first use).
    {
        "NAME": "moncompte.accounts.validators.BreachedPasswordValidator",
        "OPTIONS": {"extra_lists": PASSWORD_BREACHED_EXTRA_LISTS},
    },
    # Words tied to the service, from moncompte/accounts/data/context-words.txt (ASVS 6.1.2, 6.2.11).
    {"NAME": "moncompte.accounts.validators.ContextWordsValidator"},
    {"NAME": "moncompte.accounts.validators.PersonalDataValidator"},
]

# --- Sessions (DESIGN §7) --------------------------------------------------------------------------------------------
# Each clock stays within bounds that keep to NIST SP 800-63B-4 §2.2.3 (AAL2): a value set outside them is brought
# back to the nearest bound, as the OTP settings are. docs/sessions.md gives the reasons, bound by bound.
SESSION_IDLE_TIMEOUT_BOUNDS = (5 * 60, 60 * 60)  # seconds; AAL2: inactivity timeout SHOULD be no more than 1 hour
SESSION_ABSOLUTE_LIFETIME_BOUNDS = (60 * 60, 24 * 60 * 60)  # seconds; AAL2: overall timeout SHOULD be <= 24 hours
REAUTH_MAX_AGE_BOUNDS = (60, 15 * 60)  # seconds; a typed password is recent for minutes, not for a whole session


def _bounded(name: str, default: int, bounds: tuple[int, int]) -> int:
    return min(max(env.int(name, default=default), bounds[0]), bounds[1])


SESSION_IDLE_TIMEOUT = _bounded("SESSION_IDLE_TIMEOUT", 30 * 60, SESSION_IDLE_TIMEOUT_BOUNDS)
SESSION_ABSOLUTE_LIFETIME = _bounded("SESSION_ABSOLUTE_LIFETIME", 12 * 60 * 60, SESSION_ABSOLUTE_LIFETIME_BOUNDS)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT
#: Changing contacts, the password or a delegation, or ending another session, asks for the password again if it was
#: last typed longer ago.
REAUTH_MAX_AGE = _bounded("REAUTH_MAX_AGE", 5 * 60, REAUTH_MAX_AGE_BOUNDS)

# --- Households ------------------------------------------------------------------------------------------------------
MEMBER_ACCOUNT_MIN_AGE = 15  # seed: "tous les membres de plus de 15 ans"
INVITATION_LIFETIME_HOURS = env.int("INVITATION_LIFETIME_HOURS", default=72)
# Invitations a holder may send in an hour, to one address or number, and in all (counted from the invitations).
INVITATIONS_PER_HOUR_PER_DESTINATION = env.int("INVITATIONS_PER_HOUR_PER_DESTINATION", default=5)
INVITATIONS_PER_HOUR_PER_HOLDER = env.int("INVITATIONS_PER_HOUR_PER_HOLDER", default=10)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "moncompte_session"
REMEMBER_ME_COOKIE_NAME = "moncompte_identifiant"
REMEMBER_ME_MAX_AGE = env.int("REMEMBER_ME_DAYS", default=395) * 24 * 60 * 60

# --- Throttling ------------------------------------------------------------------------------------------------------
# django-axes: failures counted per identifier AND IP address, with a finite cool-off (never a permanent lock).
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "identifier"
AXES_USERNAME_CALLABLE = "moncompte.accounts.throttling.axes_username"
AXES_LOCKOUT_CALLABLE = "moncompte.accounts.throttling.lockout_response"
AXES_RESET_ON_SUCCESS = True
# The journal records every login (login.succeeded: time, IP, device, session); axes' own log of successful logins
# would only duplicate it, at one more INSERT per login. Failures and lockouts (AccessAttempt) are unchanged.
AXES_DISABLE_ACCESS_LOG = True
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
# The number of trusted reverse proxies in front of the app (each appends to X-Forwarded-For): the client address is
# read as moncompte.journal.middleware.client_ip says, for axes, our limits and the journal alike. 0: REMOTE_ADDR.
PROXY_COUNT = env.int("PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "moncompte.journal.middleware.client_ip"
AXES_VERBOSE = False
# A trusted device (device cookie) is outside axes' NIR+IP count: it has its own NIR+device limit (DEVICE_* below).
AXES_WHITELIST_CALLABLE = "moncompte.accounts.throttling.axes_trusted_device"
# Our own sliding limits, on top of axes: one identifier from many addresses, one address trying many identifiers.
LOGIN_LIMIT_PER_IDENTIFIER = env.int("LOGIN_LIMIT_PER_IDENTIFIER", default=20)  # failures per window
LOGIN_LIMIT_PER_IP = env.int("LOGIN_LIMIT_PER_IP", default=100)  # failures per window
LOGIN_LIMIT_WINDOW = env.int("LOGIN_LIMIT_WINDOW_MINUTES", default=60) * 60  # seconds
# Device cookies (OWASP "slow down online guessing with device cookies"): a successful login leaves a signed cookie
# that makes this browser a trusted device of that account. A trusted device is never caught by the limits above
# (an attacker who knows the NIR spends them); it has its own small limit per NIR and device. Past the per-NIR
# ceiling an untrusted client is stepped up, not refused: after the right password, a code to a validated contact.
DEVICE_COOKIE_NAME = "moncompte_appareil"
DEVICE_TRUST_DAYS = env.int("DEVICE_TRUST_DAYS", default=180)
LOGIN_LIMIT_PER_DEVICE = env.int("LOGIN_LIMIT_PER_DEVICE", default=5)  # failures per cool-off, per NIR and device
# Once a NIR reached LOGIN_LIMIT_PER_IDENTIFIER, untrusted clients stay stepped up this long (refreshed by failures).
LOGIN_STEP_UP_HOURS = env.int("LOGIN_STEP_UP_HOURS", default=24)

# --- One-time codes --------------------------------------------------------------------------------------------------
# The ceilings (10 minutes, 5 tries, 5 sends an hour) are the product's rules: settings may only be stricter.
OTP_LIFETIME = min(env.int("OTP_LIFETIME_MINUTES", default=10), 10) * 60
OTP_MAX_ATTEMPTS = min(env.int("OTP_MAX_ATTEMPTS", default=5), 5)
OTP_RESEND_DELAY = max(env.int("OTP_RESEND_SECONDS", default=60), 60)
OTP_MAX_SENDS_PER_HOUR = min(env.int("OTP_MAX_SENDS_PER_HOUR", default=5), 5)
# Codes anyone who knows a NIR can ask for (reset, signup to a contact on file) are longer, and their tries are
# limited per NIR over a day, whatever the session or address, so that the yearly chance of guessing one NIR's code
# stays under 1e-4: OTP_ANONYMOUS_TRIES_PER_DAY x 366 / 10**OTP_ANONYMOUS_DIGITS (a system check refuses more).
# See docs/decisions/010-code-guessing-ceilings.md. A trusted device of the person is outside all of these.
OTP_DIGITS = 6
OTP_ANONYMOUS_DIGITS = min(max(env.int("OTP_ANONYMOUS_DIGITS", default=8), 8), 10)
OTP_ANONYMOUS_TRIES_PER_DAY = env.int("OTP_ANONYMOUS_TRIES_PER_DAY", default=10)  # per NIR; back-off past one code
OTP_ANONYMOUS_SENDS_PER_DAY = env.int("OTP_ANONYMOUS_SENDS_PER_DAY", default=10)  # per NIR
# Per client address (an IPv6 /64 counts as one) and for the whole service, per clock hour; reaching one is an alert.
OTP_REQUESTS_PER_ADDRESS_PER_HOUR = env.int("OTP_REQUESTS_PER_ADDRESS_PER_HOUR", default=20)
OTP_TRIES_PER_ADDRESS_PER_HOUR = env.int("OTP_TRIES_PER_ADDRESS_PER_HOUR", default=40)
OTP_REQUESTS_PER_HOUR = env.int("OTP_REQUESTS_PER_HOUR", default=5000)
OTP_TRIES_PER_HOUR = env.int("OTP_TRIES_PER_HOUR", default=10000)

# --- Phone channel ---------------------------------------------------------------------------------------------------
# The voice server keeps the case number + PIN until this date (the seed says March 2022); shown at onboarding.
PHONE_PIN_SUNSET = date.fromisoformat(env.str("PHONE_PIN_SUNSET")) if env.str("PHONE_PIN_SUNSET", default="") else None
# The telephony provider signs each webhook with this token (X-Twilio-Signature); the embedded mode keeps a random one
# in var/ (`make call` reads it there). Production must set the provider's.
PHONE_AUTH_TOKEN = env.str("PHONE_AUTH_TOKEN", default="") or _local_secret("phone_auth_token")
PHONE_AGENT_NUMBER = env.str("PHONE_AGENT_NUMBER", default="")  # E.164: where « parler à un conseiller » transfers
PHONE_PIN_TRIES_PER_CASE = env.int("PHONE_PIN_TRIES_PER_CASE", default=5)  # wrong PINs per case, then a cool-off
PHONE_PIN_TRIES_PER_NUMBER = env.int("PHONE_PIN_TRIES_PER_NUMBER", default=10)  # per calling number, then a cool-off
PHONE_PIN_COOLOFF = env.int("PHONE_PIN_COOLOFF_MINUTES", default=15) * 60  # seconds; the windows are this long too
PHONE_PIN_RENEWALS_PER_DAY = env.int("PHONE_PIN_RENEWALS_PER_DAY", default=2)  # new PINs by SMS per case and day
PHONE_CALL_DAYS = env.int("PHONE_CALL_DAYS", default=30)  # a call's record (calling number, steps) is kept this long
PHONE_GATHER_TIMEOUT = min(max(env.int("PHONE_GATHER_TIMEOUT_SECONDS", default=8), 3), 30)  # silence before re-asking

# --- FranceConnect (v2) ----------------------------------------------------------------------------------------------
# Empty issuer or client id: no FranceConnect button anywhere. The provider sends the browser back to SITE_URL +
# /franceconnect/retour/ (and /franceconnect/deconnexion/ after its logout): register exactly these two addresses.
FRANCECONNECT_ISSUER = env.str("FRANCECONNECT_ISSUER", default="").rstrip("/")
FRANCECONNECT_CLIENT_ID = env.str("FRANCECONNECT_CLIENT_ID", default="")
FRANCECONNECT_CLIENT_SECRET = env.str("FRANCECONNECT_CLIENT_SECRET", default="")
FRANCECONNECT_ACR = env.str("FRANCECONNECT_ACR", default="eidas1")
# Signature algorithms accepted from the provider; only ES256 and RS256 can ever be (never none, never HS*).
FRANCECONNECT_ALGORITHMS = env.list("FRANCECONNECT_ALGORITHMS", default=["ES256", "RS256"])
FRANCECONNECT_LEEWAY = min(env.int("FRANCECONNECT_LEEWAY_SECONDS", default=30), 120)  # clock skew on exp and iat
FRANCECONNECT_TIMEOUT = env.float("FRANCECONNECT_TIMEOUT_SECONDS", default=3.0)
_issuer = urlsplit(FRANCECONNECT_ISSUER)
FRANCECONNECT_ORIGINS = [f"{_issuer.scheme}://{_issuer.netloc}"] if FRANCECONNECT_ISSUER else []

# --- Partner administrations (moncompte.partners, docs/partners.md) --------------------------------------------------
# One base address per partner and an optional bearer token. An empty address: that partner is not configured, and
# the pages say its data is unavailable. `make run` points them at the local simulator (scripts/partners/).
PARTNER_DGFIP_URL = env.str("PARTNER_DGFIP_URL", default="")  # tax office: reference tax income by year
PARTNER_DGFIP_TOKEN = env.str("PARTNER_DGFIP_TOKEN", default="")
PARTNER_FRANCE_TRAVAIL_URL = env.str("PARTNER_FRANCE_TRAVAIL_URL", default="")  # registration, allowances
PARTNER_FRANCE_TRAVAIL_TOKEN = env.str("PARTNER_FRANCE_TRAVAIL_TOKEN", default="")
PARTNER_REGISTRY_URL = env.str("PARTNER_REGISTRY_URL", default="")  # national identity registry: civil status check
PARTNER_REGISTRY_TOKEN = env.str("PARTNER_REGISTRY_TOKEN", default="")
PARTNER_CASE_SYSTEM_URL = env.str("PARTNER_CASE_SYSTEM_URL", default="")  # the agency's case system
PARTNER_CASE_SYSTEM_TOKEN = env.str("PARTNER_CASE_SYSTEM_TOKEN", default="")
# Seconds each try may take (moncompte.partners.client.MAX_TIMEOUT, 2 s, caps it whatever is set here).
PARTNER_TIMEOUT_SECONDS = env.float("PARTNER_TIMEOUT_SECONDS", default=2.0)
# How long a tax office or France Travail answer is reused; the case system's answers (payments, letters, requests)
# change sooner. 0: never cached. Registry checks are never cached.
PARTNER_CACHE_SECONDS = env.int("PARTNER_CACHE_SECONDS", default=3600)
PARTNER_CASE_SYSTEM_CACHE_SECONDS = env.int("PARTNER_CASE_SYSTEM_CACHE_SECONDS", default=300)

# --- Messaging -------------------------------------------------------------------------------------------------------
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    # No SMTP server: messages stay in the outbox table, readable on /dev/boite-d-envoi/ when DEBUG is on.
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Mon Compte <ne-pas-repondre@moncompte.example>")
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env.str("SMS_GATEWAY_TOKEN", default="")
SMS_GATEWAY_TIMEOUT = env.float("SMS_GATEWAY_TIMEOUT", default=10.0)
SMS_BACKEND = (
    "moncompte.messaging.sms.HttpGatewayBackend" if SMS_GATEWAY_URL else "moncompte.messaging.sms.OutboxBackend"
)

# --- Background jobs -------------------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not (REDIS_URL or "CELERY_BROKER_URL" in env))
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# `celery -A moncompte beat` (or cron running `manage.py drafts_housekeeping` and `manage.py calls_housekeeping`):
# reminders a week before a draft expires, then the expired drafts deleted; the records of old calls deleted.
CELERY_BEAT_SCHEDULE = {
    "drafts-housekeeping": {"task": "moncompte.procedures.tasks.drafts_housekeeping", "schedule": 6 * 3600},
    "calls-housekeeping": {"task": "moncompte.phone.tasks.calls_housekeeping", "schedule": 24 * 3600},
}

# --- Internationalisation --------------------------------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("Anglais"))]
LOCALE_PATHS = [BASE_DIR / "moncompte" / "locale"]
# The language a person picks in the header (set_language) is kept in a cookie for the browser session.
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "static"))
# Supporting documents: through Django's storage API, outside the static files and never served by URL (the pages
# hand them out after the access policy). Point MEDIA_ROOT at a volume (or swap the default storage) in production.
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
DSFR_USE_INTEGRITY_CHECKSUMS = True

# --- Procedures (benefit requests) -----------------------------------------------------------------------------------
PROCEDURE_DRAFT_DAYS = env.int("PROCEDURE_DRAFT_DAYS", default=90)  # a draft is deleted this long after its last save
DOCUMENT_MAX_BYTES = env.int("DOCUMENT_MAX_BYTES", default=10 * 1024 * 1024)  # per supporting document

# --- Incidents ------------------------------------------------------------------------------------------------------
# How often each process asks the database whether the service is closed: a closure reaches every process within
# this time plus one request.
INCIDENT_SWITCH_POLL_SECONDS = env.float("INCIDENT_SWITCH_POLL_SECONDS", default=2.0)
# The Retry-After of the maintenance page (HTTP 503) while the service is closed.
INCIDENT_RETRY_AFTER_SECONDS = env.int("INCIDENT_RETRY_AFTER_SECONDS", default=3600)
# How many people a second `incident notify` tells (each gets an e-mail and/or an SMS through the outbox).
INCIDENT_NOTICE_RATE = env.float("INCIDENT_NOTICE_RATE", default=20.0)

# --- HTTP security headers -------------------------------------------------------------------------------------------
HTTPS = env.bool("HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SECURE = HTTPS
CSRF_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = False
# Joining the HSTS preload list is the domain owner's decision, not the application's.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        # A form posted here may be redirected to FranceConnect (its button, the logout of a FranceConnect session).
        "form-action": [SELF, *FRANCECONNECT_ORIGINS],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- Logging: structured, and never a NIR, a code, a PIN or a password -----------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "moncompte.logging.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "axes": {"level": "WARNING"},
        "django.db.backends": {"level": "INFO"},
        # Configuring them drops Django's own handlers (its DEBUG-only console, mail_admins, runserver's access log),
        # which would print the same records unmasked: everything goes through the redacting console instead.
        "django": {"level": "INFO"},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

ADMIN_URL = env.str("ADMIN_URL", default="admin/")
# The voice server's webhooks (moncompte/phone): the closing switch lets them through, as they speak its notice.
PHONE_URL = "telephone/"
# The agents' screens (moncompte/desk): their sign-in, the desk that receives a person, the supervisors' list.
DESK_URL = "guichet/"
# Searches per agent and clock hour at the desk (a case number or a NIR): past it, refused until the next hour, alert.
DESK_SEARCHES_PER_HOUR = env.int("DESK_SEARCHES_PER_HOUR", default=60)
# An exchange with a person ends by itself after this many minutes (the agent searches again).
DESK_EXCHANGE_MINUTES = env.int("DESK_EXCHANGE_MINUTES", default=60)
# django-otp: the name authenticator applications show beside an agent's codes.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Mon Compte (agents)")
SITE_TITLE = "Mon Compte"

# --- Legal pages (footer: mentions légales, données personnelles, accessibilité) -------------------------------------
# Left empty, the pages say that this is a demonstration deployment and that the deployer has to fill them in.
LEGAL_PUBLISHER = env.str("LEGAL_PUBLISHER", default="")  # the agency that publishes the site (éditeur)
LEGAL_PUBLISHER_ADDRESS = env.str("LEGAL_PUBLISHER_ADDRESS", default="")
LEGAL_PUBLICATION_DIRECTOR = env.str("LEGAL_PUBLICATION_DIRECTOR", default="")  # directeur de la publication
LEGAL_HOST = env.str("LEGAL_HOST", default="")  # hébergeur: name and address
DPO_CONTACT = env.str("DPO_CONTACT", default="dpo@moncompte.example")  # the agency's data protection officer
ACCESSIBILITY_CONTACT = env.str("ACCESSIBILITY_CONTACT", default="accessibilite@moncompte.example")
