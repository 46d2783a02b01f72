"""Authentication to the cloud, each method with the library made for it.

* ``token``: a ready ``X-Auth-Token`` read from an environment variable. A 401 re-reads the
  variable (a rotated token) — a renewal only when it changed.
* ``password``: IAM (Keystone v3) password login with keystoneauth1's ``identity.v3.Password``,
  scoped to the source's project. The plugin caches the token and logs in again before it expires
  (keystoneauth's ``MIN_TOKEN_LIFE_SECONDS``); a 401 invalidates it, so the next request logs in.
* ``aksk``: every request signed by huaweicloudsdkcore's own signer (``BasicCredentials``'s
  ``sign_request``: ``X-Sdk-Date``, ``X-Project-Id``, ``Authorization: SDK-HMAC-SHA256 …``, and
  ``X-Security-Token`` with temporary credentials). Nothing to renew.

Secrets are read from the environment when a run starts and held in memory only; the source
stores the variables' names.
"""

import os
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from keystoneauth1 import exceptions as ksa_exceptions
from keystoneauth1 import session as ksa_session
from keystoneauth1.identity import v3

from backups.choices import AuthMethod

from .http import BODY_LIMIT, UpstreamError

ACCEPT = {"Accept": "application/json"}


class MissingSecret(UpstreamError):
    """An environment variable the source names is not set."""


def _env(environ, field, name):
    value = environ.get(name) if name else None
    if not value:
        raise MissingSecret(
            f"the environment variable {name or '(none named)'} ({field}) is not set: "
            f"export it before running sync_backups"
        )
    return value


class TokenAuth:
    def __init__(self, variable, environ):
        self.variable, self.environ = variable, environ
        self.token = _env(environ, "token_env", variable)

    def request(self, method, url, params):
        return httpx.Request(method, url, params=params, headers={**ACCEPT, "X-Auth-Token": self.token})

    def renew(self):
        fresh = self.environ.get(self.variable)
        if fresh and fresh != self.token:
            self.token = fresh
            return True
        return False


class PasswordAuth:
    def __init__(self, auth_url, *, username, password, domain, project_id):
        self.plugin = v3.Password(
            auth_url=auth_url,
            username=username,
            password=password,
            user_domain_name=domain,
            project_id=project_id,
        )
        self.session = ksa_session.Session(auth=self.plugin, timeout=settings.SYNC_TIMEOUT)
        self.auth_url = auth_url

    def token(self):
        try:
            return self.plugin.get_token(self.session)
        except ksa_exceptions.HttpError as error:
            body = error.response.text[:BODY_LIMIT] if error.response is not None else ""
            raise UpstreamError(
                f"IAM login at {self.auth_url}/auth/tokens failed: HTTP {error.http_status}",
                url=self.auth_url,
                status=error.http_status,
                body=body,
                transient=error.http_status in (429, 500, 502, 503, 504),
            ) from None
        except ksa_exceptions.ClientException as error:  # connection refused, timeout, bad answer
            raise UpstreamError(
                f"IAM login at {self.auth_url}/auth/tokens failed: {type(error).__name__}: {error}",
                url=self.auth_url,
                transient=isinstance(error, ksa_exceptions.ConnectionError),
            ) from None

    def request(self, method, url, params):
        return httpx.Request(method, url, params=params, headers={**ACCEPT, "X-Auth-Token": self.token()})

    def renew(self):
        self.plugin.invalidate()
        return True


class AkSkAuth:
    def __init__(self, *, ak, sk, project_id, security_token=None):
        self.credentials = BasicCredentials(ak, sk, project_id)
        if security_token:
            self.credentials.with_security_token(security_token)

    def request(self, method, url, params):
        parts = urlsplit(url)
        signed = self.credentials.sign_request(
            SdkRequest(
                method=method,
                schema=parts.scheme,
                host=parts.netloc,
                resource_path=parts.path,
                query_params=[(key, str(value)) for key, value in params],
                header_params=dict(ACCEPT),
                body="",
            )
        )
        # signed.uri: the path and the query exactly as signed (the signer's canonical query).
        return httpx.Request(
            method, f"{parts.scheme}://{parts.netloc}{signed.uri}", headers=signed.header_params
        )

    def renew(self):
        return False


def auth_for(source, environ=None):
    """The authentication of ``source``, its secrets read from ``environ`` (``os.environ``)."""
    environ = os.environ if environ is None else environ
    if source.auth_method == AuthMethod.TOKEN:
        return TokenAuth(source.token_env, environ)
    if source.auth_method == AuthMethod.PASSWORD:
        return PasswordAuth(
            source.iam_url(),
            username=_env(environ, "username_env", source.username_env),
            password=_env(environ, "password_env", source.password_env),
            domain=_env(environ, "domain_env", source.domain_env),
            project_id=source.project_id,
        )
    if source.auth_method == AuthMethod.AKSK:
        security_token = environ.get(source.security_token_env) if source.security_token_env else None
        return AkSkAuth(
            ak=_env(environ, "ak_env", source.ak_env),
            sk=_env(environ, "sk_env", source.sk_env),
            project_id=source.project_id,
            security_token=security_token,
        )
    raise ValueError(f"unknown auth method {source.auth_method!r}")
