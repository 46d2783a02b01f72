"""A Keystone-shaped IAM on loopback: ``POST /v3/auth/tokens`` (password, project scope).

The token body is built by keystoneauth1's own fixture (``keystoneauth1.fixture.V3Token``), so the
client's parser reads exactly what Keystone would send; the token comes back in ``X-Subject-Token``
(201), as Huawei IAM does. ``lifetime`` sets how long issued tokens live; ``valid(token)`` is what an
upstream asks to authenticate a request; ``revoke_all()`` makes every issued token fail (a 401).
(Written here because the Keystone helper's ``tests/upstreams/keystone.py`` was not on main yet.)
"""
import json
import secrets
import threading
from datetime import datetime, timedelta, timezone

from keystoneauth1 import fixture

from .server import LoopbackServer


class IAMUpstream(LoopbackServer):
    def __init__(self, *, user, password, domain, project_id, lifetime=timedelta(hours=24)):
        self.user, self.password, self.domain, self.project_id = user, password, domain, project_id
        self.lifetime = lifetime
        self.issued = {}  # token -> expires_at
        self.logins = 0
        self.refused = 0
        self.lock = threading.Lock()
        super().__init__(self.respond)

    @property
    def auth_url(self):
        return self.url + "/v3"

    def respond(self, handler):
        if handler.command != "POST" or handler.path.split("?")[0] != "/v3/auth/tokens":
            return 404, {"Content-Type": "application/json"}, json.dumps({"error": {"code": 404}})
        try:
            auth = json.loads(handler.body)["auth"]
            user = auth["identity"]["password"]["user"]
            scope = auth["scope"]["project"]["id"]
            given = (user["name"], user["password"], user["domain"]["name"], auth["identity"]["methods"])
        except (ValueError, KeyError, TypeError):
            return 400, {"Content-Type": "application/json"}, json.dumps({"error": {"code": 400}})
        if given != (self.user, self.password, self.domain, ["password"]) or scope != self.project_id:
            with self.lock:
                self.refused += 1
            body = {"error": {"code": 401, "title": "Unauthorized", "message": "The username or password is wrong."}}
            return 401, {"Content-Type": "application/json"}, json.dumps(body)
        expires = datetime.now(timezone.utc) + self.lifetime
        token = fixture.V3Token(
            expires=expires, user_name=self.user, user_domain_name=self.domain, methods=["password"],
            project_id=self.project_id, project_name="ap-southeast-1",
        )
        token.add_role(name="te_admin")
        key = "MII" + secrets.token_urlsafe(24)
        with self.lock:
            self.issued[key] = expires
            self.logins += 1
        return 201, {"Content-Type": "application/json", "X-Subject-Token": key}, json.dumps(token)

    def valid(self, token):
        with self.lock:
            expires = self.issued.get(token)
        return expires is not None and expires > datetime.now(timezone.utc)

    def revoke_all(self):
        with self.lock:
            self.issued.clear()
