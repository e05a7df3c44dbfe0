"""Signing in with a mobile number (org/accounts.py): the login page's one field takes a username (officials)
or the number of a resident's account. Django's ModelBackend checks the password either way."""

from django.contrib.auth.backends import ModelBackend

from .accounts import account_for_phone


class PhoneBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        account = account_for_phone(username)
        if account is None:
            return None
        user = account.user
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
