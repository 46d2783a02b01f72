"""A Keystone v3 (IAM) test server on 127.0.0.1, whose token bodies are keystoneauth1's fixtures.

It answers what the service and the SDK ask of IAM (UPSTREAMS.md, "Authentication"):

- ``GET /`` and ``GET /v3``: version discovery (``keystoneauth1.fixture.DiscoveryList``/``V3Discovery``);
- ``POST /v3/auth/tokens``: password login (user by name and domain, or by id), scoped to a project
  (by id, or by name and domain), to a domain, or unscoped: 201, the token in ``X-Subject-Token``;
- ``GET``/``HEAD /v3/auth/tokens``: validation of ``X-Subject-Token``; the caller's ``X-Auth-Token``
  must be valid and hold a role of ``VALIDATOR_ROLES``, or be the subject itself (Keystone's policy);
  unknown, revoked or expired: 404; ``?nocatalog`` leaves the catalog out;
- ``DELETE /v3/auth/tokens``: revocation of ``X-Subject-Token``.

Bodies are ``keystoneauth1.fixture.V3Token``: user, scope, roles, ``expires_at``, and a catalog
(identity, and any service added with ``add_service``, ``$(project_id)s`` substituted as Keystone
does). Tests drive it in-process: ``issue`` a token without a login, ``revoke``, ``stall`` (accept
connections and answer nothing, until ``resume``), ``clock_offset`` (this Keystone's clock minus
ours), and read ``calls`` (a ``Counter`` of ``"METHOD /path"``) to count what the service asked.
Errors are Keystone's: ``{"error": {"code", "title", "message"}}``.

By hand: ``python -m tests.upstreams.keystone [--port N] [--project ID ...] [--csbs-url URL]``
prints the URL, the ``KEYSTONE_*`` settings of the service and the users' logins, and serves
until Ctrl-C.
"""
import argparse
import json
import secrets
import socket
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from keystoneauth1 import fixture

TOKENS_PATH = "/v3/auth/tokens"
VALIDATOR_ROLES = frozenset({"admin", "service"})
DEFAULT_DOMAIN = {"id": "default", "name": "Default"}
TOKEN_LIFETIME = timedelta(hours=24)  # IAM's


@dataclass
class User:
    id: str
    name: str
    password: str
    domain: dict
    roles: dict = field(default_factory=dict)  # project id -> role names


class KeystoneError(Exception):
    TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}

    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message

    def body(self):
        return {"error": {"code": self.code, "title": self.TITLES[self.code], "message": self.message}}


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *args):
        super().__init__(*args)
        self.connections = set()  # open keep-alive connections, closed by ``KeystoneServer.stop``

    def close_connections(self):
        for connection in list(self.connections):
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        """Quiet about callers that gave up (a stalled answer after their timeout)."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class KeystoneServer:
    """The server and its state; ``with KeystoneServer() as keystone:`` runs it in a thread."""

    def __init__(self, host="127.0.0.1", port=0):
        self.httpd = _HTTPServer((host, port), _Handler)
        self.httpd.keystone = self
        self.lock = threading.Lock()
        self.projects = {}  # id -> {"id", "name", "domain"}
        self.users = {}  # id -> User
        self.services = []  # (type, name, url template)
        self.tokens = {}  # token -> V3Token
        self.calls = Counter()
        self.clock_offset = timedelta(0)
        self.verbose = False  # print each request line (never a header: tokens travel in headers)
        self._answering = threading.Event()
        self._answering.set()
        self._thread = None

    # --- running ---------------------------------------------------------------------------------

    @property
    def root_url(self):
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self):
        """The identity v3 endpoint: what ``KEYSTONE_AUTH_URL`` and the SDK's ``auth_url`` take."""
        return f"{self.root_url}/v3"

    def start(self):
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="keystone", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Close the port and every open connection: connections are then refused. Idempotent."""
        self.resume()
        if self._thread is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd.close_connections()
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def stall(self):
        """Keep accepting connections but answer nothing until ``resume`` (a hung Keystone)."""
        self._answering.clear()

    def resume(self):
        self._answering.set()

    # --- state -----------------------------------------------------------------------------------

    def add_project(self, project_id, name=None, domain=DEFAULT_DOMAIN):
        self.projects[project_id] = {"id": project_id, "name": name or project_id, "domain": dict(domain)}
        return self.projects[project_id]

    def add_user(self, name, password, *, roles=None, domain=DEFAULT_DOMAIN):
        """A user with ``roles``: ``{project_id: ["member", ...]}``; the projects are added if new."""
        for project_id in roles or {}:
            self.projects.get(project_id) or self.add_project(project_id)
        user = User(id=secrets.token_hex(16), name=name, password=password, domain=dict(domain),
                    roles={project: list(names) for project, names in (roles or {}).items()})
        self.users[user.id] = user
        return user

    def add_service(self, service_type, name, url):
        """A catalog entry; ``$(project_id)s`` in ``url`` becomes the token's project."""
        self.services.append((service_type, name, url))

    def now(self):
        return datetime.now(timezone.utc) + self.clock_offset

    def issue(self, user, *, project_id=None, domain=None, roles=None, expires_at=None, lifetime=TOKEN_LIFETIME):
        """A token for ``user`` as a login would give it (``roles`` overrides the assignment)."""
        issued = self.now()
        body = fixture.V3Token(
            user_id=user.id, user_name=user.name,
            user_domain_id=user.domain["id"], user_domain_name=user.domain["name"],
            issued=issued, expires=expires_at or issued + lifetime,
        )
        if project_id is not None:
            project = self.projects[project_id]
            body.set_project_scope(id=project["id"], name=project["name"],
                                   domain_id=project["domain"]["id"], domain_name=project["domain"]["name"])
            for role in user.roles.get(project_id, []) if roles is None else roles:
                body.add_role(name=role, id=f"role-{role}")
            self._add_catalog(body, project_id)
        elif domain is not None:
            body.set_domain_scope(id=domain["id"], name=domain["name"])
            for role in roles or ["admin"]:
                body.add_role(name=role, id=f"role-{role}")
            self._add_catalog(body, None)
        token = "gAAAAAB" + secrets.token_urlsafe(135)  # the length and look of a Fernet token
        with self.lock:
            self.tokens[token] = body
        return token

    def revoke(self, token):
        with self.lock:
            self.tokens.pop(token, None)

    def _add_catalog(self, body, project_id):
        identity = body.add_service("identity", name="keystone")
        identity.add_standard_endpoints(public=self.url, internal=self.url, admin=self.url, region="RegionOne")
        for service_type, name, url in self.services:
            if project_id is None and "$(project_id)s" in url:
                continue
            service = body.add_service(service_type, name=name)
            service.add_endpoint("public", url.replace("$(project_id)s", project_id or ""), region="RegionOne")

    def body_of(self, token):
        """The body of a valid token, or None (unknown, revoked, expired by this Keystone's clock)."""
        with self.lock:
            body = self.tokens.get(token or "")
        if body is None or body.expires <= self.now():
            return None
        return body

    # --- the API ---------------------------------------------------------------------------------

    def login(self, request):
        """``POST /v3/auth/tokens``: the token and its body."""
        auth = request.get("auth") if isinstance(request, dict) else None
        identity = (auth or {}).get("identity") or {}
        if "password" not in identity.get("methods", []):
            raise KeystoneError(401, "The request you have made requires authentication.")
        user = self._user_of(identity.get("password", {}).get("user") or {})
        scope = auth.get("scope") or {}
        if "project" in scope:
            project_id = self._project_of(scope["project"])
            if not user.roles.get(project_id):
                raise KeystoneError(401, f"User {user.id} has no access to project {project_id}")
            token = self.issue(user, project_id=project_id)
        elif "domain" in scope:
            domain = self._domain_of(scope["domain"])
            if domain != user.domain:
                raise KeystoneError(401, f"User {user.id} has no access to domain {domain['id']}")
            token = self.issue(user, domain=domain)
        else:
            token = self.issue(user)
        return token, self.tokens[token]

    def _user_of(self, given):
        domain = given.get("domain") or {}
        for user in self.users.values():
            in_domain = domain.get("id") == user.domain["id"] or domain.get("name") == user.domain["name"]
            if given.get("id") == user.id or (given.get("name") == user.name and in_domain):
                if secrets.compare_digest(str(given.get("password", "")), user.password):
                    return user
        raise KeystoneError(401, "The request you have made requires authentication.")

    def _project_of(self, given):
        domain = given.get("domain") or {}
        for project in self.projects.values():
            in_domain = domain.get("id") == project["domain"]["id"] or domain.get("name") == project["domain"]["name"]
            if given.get("id") == project["id"] or (given.get("name") == project["name"] and in_domain):
                return project["id"]
        raise KeystoneError(401, "Could not find project.")

    @staticmethod
    def _domain_of(given):
        if given.get("id") == DEFAULT_DOMAIN["id"] or given.get("name") == DEFAULT_DOMAIN["name"]:
            return dict(DEFAULT_DOMAIN)
        raise KeystoneError(401, "Could not find domain.")

    def validate(self, caller_token, subject_token):
        """``GET /v3/auth/tokens``: the subject's body, if the caller may ask."""
        caller = self.body_of(caller_token)
        if caller is None:
            raise KeystoneError(401, "The request you have made requires authentication.")
        if caller_token != subject_token and VALIDATOR_ROLES.isdisjoint(caller.role_names):
            raise KeystoneError(403, "You are not authorized to perform the requested action: identity:validate_token.")
        body = self.body_of(subject_token)
        if body is None:
            raise KeystoneError(404, "Failed to validate token")
        return body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "KeystoneTestServer/1"

    def log_message(self, format, *args):  # quiet in tests (they read ``calls``); by hand, one line each
        if self.keystone.verbose:
            print(f"{self.log_date_time_string()} {format % args}", flush=True)

    def setup(self):
        super().setup()
        self.server.connections.add(self.connection)

    def finish(self):
        self.server.connections.discard(self.connection)
        super().finish()

    @property
    def keystone(self):
        return self.server.keystone

    def _route(self, method):
        url = urlsplit(self.path)
        with self.keystone.lock:
            self.keystone.calls[f"{method} {url.path}"] += 1
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.keystone._answering.wait()  # stalled: the caller's timeout, not us, ends the exchange
        try:
            self._answer(method, url, body)
        except KeystoneError as error:
            self._send(error.code, error.body())

    def _answer(self, method, url, raw):
        keystone, path = self.keystone, url.path.rstrip("/")
        if method == "GET" and path == "":
            return self._send(300, fixture.DiscoveryList(href=keystone.root_url, v2=False))
        if method == "GET" and path == "/v3":
            return self._send(200, {"version": fixture.V3Discovery(keystone.url + "/")})
        if path != TOKENS_PATH:
            raise KeystoneError(404, f"Could not find {path}")
        if method == "POST":
            try:
                request = json.loads(raw or b"{}")
            except ValueError:
                raise KeystoneError(400, "Malformed JSON") from None
            token, body = keystone.login(request)
            return self._send(201, body, {"X-Subject-Token": token})
        caller, subject = self.headers.get("X-Auth-Token"), self.headers.get("X-Subject-Token")
        body = keystone.validate(caller, subject)
        if method == "DELETE":
            keystone.revoke(subject)
            return self._send(204, None)
        if "nocatalog" in parse_qs(url.query, keep_blank_values=True):
            body = json.loads(json.dumps(body))
            body["token"].pop("catalog", None)
        return self._send(200, body, {"X-Subject-Token": subject}, head=method == "HEAD")

    def _send(self, status, body, headers=None, head=False):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def do_GET(self):
        self._route("GET")

    def do_HEAD(self):
        self._route("HEAD")

    def do_POST(self):
        self._route("POST")

    def do_DELETE(self):
        self._route("DELETE")


# --- by hand ---------------------------------------------------------------------------------------

SERVICE_USER, SERVICE_PASSWORD, SERVICE_PROJECT = "backups-service", "service-password", "service"
DEMO_USERS = (("alice", "alice-password", "member"), ("root", "root-password", "admin"))


def demo_server(projects, port=0, csbs_url=None):
    """The server ``python -m`` runs: the service's user, and alice (member) and root (admin) of ``projects``."""
    keystone = KeystoneServer(port=port)
    keystone.add_user(SERVICE_USER, SERVICE_PASSWORD, roles={SERVICE_PROJECT: ["service"]})
    for name, password, role in DEMO_USERS:
        keystone.add_user(name, password, roles={project: [role] for project in projects})
    if csbs_url:
        keystone.add_service("data-protect", "csbs", f"{csbs_url.rstrip('/')}/v1/$(project_id)s")
    return keystone


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="default: a free ephemeral port")
    parser.add_argument("--project", action="append", help="a project id for the demo users (repeatable)")
    parser.add_argument("--csbs-url", help="this service's base URL, for a data-protect catalog entry")
    args = parser.parse_args(argv)
    projects = args.project or ["demo-project"]
    keystone = demo_server(projects, port=args.port, csbs_url=args.csbs_url)
    keystone.verbose = True
    login = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "alice", "password": "alice-password", "domain": {"name": "Default"}}}},
        "scope": {"project": {"id": projects[0]}}}}
    print(f"Keystone v3 test server at {keystone.url}\n")
    print("The service's settings:")
    print(f"  export KEYSTONE_AUTH_URL={keystone.url} KEYSTONE_USERNAME={SERVICE_USER} "
          f"KEYSTONE_PASSWORD={SERVICE_PASSWORD} KEYSTONE_PROJECT_NAME={SERVICE_PROJECT}\n")
    print(f"Users (domain Default), on projects {', '.join(projects)}:")
    for name, password, role in DEMO_USERS:
        print(f"  {name} / {password} (role {role})")
    print("\nA token (the X-Subject-Token header of the answer):")
    print(f"  curl -si {keystone.url}/auth/tokens -H 'Content-Type: application/json' -d '{json.dumps(login)}'")
    print("\nServing until Ctrl-C.", flush=True)
    try:
        keystone.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        keystone.httpd.server_close()


if __name__ == "__main__":
    main()
