"""Sign-in: lock-out after repeated wrong passwords (django-axes), Argon2 hashing, the password policy,
and API tokens that stop working the moment they are revoked."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command

from gongzhi.core.models import ApiToken
from gongzhi.org.tests import factories

pytestmark = pytest.mark.django_db
PASSWORD = "pw-test-123"


@pytest.fixture
def lockout(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
    return settings


def sign_in(client, username, password, address="203.0.113.5", url="/accounts/login/"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_wrong_passwords_lock_the_account_until_an_administrator_unlocks_it(client, lockout):
    factories.user("wang")
    assert [sign_in(client, "wang", "wrong-guess").status_code for _ in range(2)] == [200, 200]
    locked = sign_in(client, "wang", "wrong-guess")
    assert locked.status_code == 429
    assert locked["Retry-After"] == str(15 * 60)
    assert "登录失败次数过多" in locked.content.decode()
    # Locked: even the right password, even from another address, is refused.
    assert sign_in(client, "wang", PASSWORD, address="198.51.100.7").status_code == 429
    call_command("axes_reset_username", "wang")
    signed_in = sign_in(client, "wang", PASSWORD, address="198.51.100.7")
    assert signed_in.status_code == 302
    assert client.get("/").wsgi_request.user.username == "wang"


def test_one_address_guessing_many_accounts_is_locked_out(client, lockout):
    for name in ("li", "zhao", "sun", "zhou"):
        factories.user(name)
    answers = [sign_in(client, name, "wrong-guess", address="192.0.2.9").status_code
               for name in ("li", "zhao", "sun")]
    assert answers == [200, 200, 429]
    assert sign_in(client, "zhou", PASSWORD, address="192.0.2.9").status_code == 429
    # Another address is not affected by that address's lock-out.
    assert sign_in(client, "zhou", PASSWORD, address="192.0.2.10").status_code == 302
    call_command("axes_reset_ip", "192.0.2.9")
    client.logout()
    assert sign_in(client, "li", PASSWORD, address="192.0.2.9").status_code == 302


def test_the_admin_sign_in_is_locked_out_too(client, lockout):
    get_user_model().objects.create_superuser("root", "root@example.org", PASSWORD)
    for _ in range(3):
        answer = sign_in(client, "root", "wrong-guess", url="/admin/login/")
    assert answer.status_code == 429
    assert sign_in(client, "root", PASSWORD, url="/admin/login/").status_code == 429


def test_a_right_password_before_the_limit_clears_the_count(client, lockout):
    factories.user("qian")
    sign_in(client, "qian", "wrong-guess")
    sign_in(client, "qian", "wrong-guess")
    assert sign_in(client, "qian", PASSWORD).status_code == 302
    client.logout()
    assert [sign_in(client, "qian", "wrong-guess").status_code for _ in range(2)] == [200, 200]


def test_production_settings_hash_new_passwords_with_argon2_and_still_accept_pbkdf2(settings):
    from gongzhi import settings as production  # the module, not the tests' overridden settings

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in production.PASSWORD_HASHERS
    assert "axes.backends.AxesStandaloneBackend" == production.AUTHENTICATION_BACKENDS[0]
    assert production.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]
    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    assert identify_hasher(make_password("a long passphrase")).algorithm == "argon2"


def test_an_old_pbkdf2_password_still_signs_in_and_is_rehashed_with_argon2(client, settings):
    from gongzhi import settings as production

    settings.PASSWORD_HASHERS = production.PASSWORD_HASHERS
    user = factories.user("old")
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save()
    assert sign_in(client, "old", PASSWORD).status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$")
    assert check_password(PASSWORD, user.password)


@pytest.mark.parametrize("password", ["short-pw1", "1234567890123", "password1234", "qwertyuiop"])
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_long_passphrase_meets_the_policy():
    assert validate_password("river-lantern-2026", get_user_model()(username="wang")) is None  # else it raises


def test_a_revoked_token_stops_working_with_the_next_request(client, world):
    token, raw = ApiToken.issue(world.secretary_a)
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/org/regions", headers=headers).status_code == 200
    # Revoked by another process (`gongzhi token revoke`): no signal reaches this one.
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert client.get("/api/v1/org/regions", headers=headers).status_code == 401


def test_a_deactivated_users_token_stops_working_with_the_next_request(client, world):
    token, raw = ApiToken.issue(world.secretary_a)
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/org/regions", headers=headers).status_code == 200
    get_user_model().objects.filter(pk=world.secretary_a.pk).update(is_active=False)
    assert client.get("/api/v1/org/regions", headers=headers).status_code == 401
