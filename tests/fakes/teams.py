"""Fakes for Microsoft Teams, all on 127.0.0.1 port 0, so no test ever calls Microsoft.

- `SigningKey`, `new_signing_key()` and `mint()`: a locally generated RSA key pair and tokens shaped like the
  Bot Framework's, with any claim, kid, algorithm or key (including `alg: none` and HS256 forgeries).
- `FakeBotFrameworkOpenID`: the Bot Framework's OpenID metadata and its JWKS, with hit counts and outages.
- `FakeEntra`: what msal calls for client credentials against a custom authority (tenant discovery and the
  token endpoint), over HTTPS with a self-signed certificate, since msal accepts only https authorities.
- `FakeBotConnector`: the Bot Connector REST API; records every activity per conversation and answers 429
  (with Retry-After), 412 or 5xx on demand; lists the members set in `members` (paged, or one by id).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import ssl
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

BOT_ISSUER = "https://api.botframework.com"
APP_ID = "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"
TENANT_ID = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
APP_PASSWORD = "test-app-password"

Answer = tuple[int, dict[str, str], bytes]


# -- signing keys and tokens -------------------------------------------------------------------------------


@dataclass
class SigningKey:
    """An RSA key pair the way the Bot Framework publishes it: a kid, and the channels that endorse it."""

    kid: str
    private: rsa.RSAPrivateKey
    endorsements: list[str] = field(default_factory=lambda: ["msteams"])

    def jwk(self) -> dict[str, Any]:
        public = jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "endorsements": list(self.endorsements)}

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def new_signing_key(kid: str | None = None, endorsements: Iterable[str] = ("msteams",)) -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return SigningKey(kid or f"kid-{uuid.uuid4().hex[:8]}", private, list(endorsements))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(
    key: SigningKey | None,
    *,
    service_url: str,
    app_id: str = APP_ID,
    issuer: str = BOT_ISSUER,
    now: float | None = None,
    lifetime: float = 3600,
    kid: str | None = None,
    alg: str = "RS256",
    claims: Mapping[str, Any] | None = None,
    drop: Iterable[str] = (),
    hmac_secret: bytes | None = None,
) -> str:
    """A Bot Framework-shaped token. `claims` overrides or adds claims, `drop` removes them.

    `alg="none"` gives an unsigned token; `alg="HS256"` signs with `hmac_secret` (by default the public key's
    PEM: the classic RS256/HS256 confusion forgery, which PyJWT itself refuses to produce).
    """
    issued = time.time() if now is None else now
    payload: dict[str, Any] = {
        "serviceurl": service_url,
        "nbf": int(issued) - 5,
        "exp": int(issued + lifetime),
        "iss": issuer,
        "aud": app_id,
        **(claims or {}),
    }
    for name in drop:
        payload.pop(name, None)
    header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if kid is not None or key is not None:
        header["kid"] = kid if kid is not None else key.kid  # type: ignore[union-attr]
    if alg == "RS256":
        if key is None:
            raise ValueError("RS256 needs a key")
        return jwt.encode(payload, key.private, algorithm="RS256", headers={"kid": header.get("kid")})
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    if alg.lower() == "none":
        return signing_input + "."
    if alg == "HS256":
        secret = hmac_secret if hmac_secret is not None else (key.public_pem() if key else b"secret")
        digest = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(digest)}"
    raise ValueError(f"mint cannot sign with {alg}")


def teams_activity(service_url: str, **fields: Any) -> dict[str, Any]:
    """A minimal Teams message activity (what `verify` looks at, plus enough to look real)."""
    return {
        "type": "message",
        "id": f"act-{uuid.uuid4().hex[:8]}",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": "29:user-1", "aadObjectId": str(uuid.uuid4())},
        "conversation": {"id": "a:personal-1", "conversationType": "personal", "tenantId": TENANT_ID},
        "recipient": {"id": f"28:{APP_ID}"},
        "text": "goal",
        **fields,
    }


# -- one small threaded HTTP server for all fakes -----------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


class _Drop(Exception):
    """Raised by a route to close the connection without any answer (a network failure)."""


class _HTTPServer:
    """ThreadingHTTPServer on 127.0.0.1:0 handing every request to `route`; optionally TLS."""

    def __init__(self, route: Callable[[Request], Answer], tls: ssl.SSLContext | None = None) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query={k: v[0] for k, v in parse_qs(parts.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                try:
                    status, headers, payload = route(request)
                except _Drop:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 64

        self.server = Server(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        # A short poll so that stopping (once per test) takes milliseconds, not the default half second.
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Answer:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()


# -- Bot Framework OpenID metadata and JWKS -----------------------------------------------------------------


class FakeBotFrameworkOpenID:
    """`with FakeBotFrameworkOpenID([key]) as openid:`; point TEAMS_OPENID_METADATA_URL at `metadata_url`."""

    def __init__(self, keys: Iterable[SigningKey] = ()) -> None:
        self._lock = threading.Lock()
        self._keys = list(keys)
        self._faults: list[int] = []
        self.hits: Counter[str] = Counter()
        self._http = _HTTPServer(self._route)
        self.base = f"http://127.0.0.1:{self._http.port}"
        self.metadata_url = f"{self.base}/v1/.well-known/openidconfiguration"
        self.jwks_url = f"{self.base}/v1/.well-known/keys"

    def __enter__(self) -> FakeBotFrameworkOpenID:
        self._http.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.stop()

    def set_keys(self, keys: Iterable[SigningKey]) -> None:
        """Rotate: from now on the JWKS serves exactly these keys."""
        with self._lock:
            self._keys = list(keys)

    def fail_next(self, status: int = 503, times: int = 1) -> None:
        with self._lock:
            self._faults.extend([status] * times)

    def _route(self, request: Request) -> Answer:
        with self._lock:
            if request.path.endswith("/openidconfiguration"):
                self.hits["metadata"] += 1
                if self._faults:
                    return _json(self._faults.pop(0), {"error": "unavailable"})
                return _json(
                    200,
                    {
                        "issuer": BOT_ISSUER,
                        "authorization_endpoint": f"{self.base}/v1/.well-known/authorize",
                        "jwks_uri": self.jwks_url,
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                    },
                )
            if request.path == urlsplit(self.jwks_url).path:
                self.hits["jwks"] += 1
                if self._faults:
                    return _json(self._faults.pop(0), {"error": "unavailable"})
                return _json(200, {"keys": [k.jwk() for k in self._keys]})
        return _json(404, {"error": "not found"})


# -- Entra ID (msal's authority) ----------------------------------------------------------------------------


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own CA, so requests can verify it with `verify=<cert file>`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=True,
                key_cert_sign=True,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@dataclass
class TokenRequest:
    client_id: str
    secret_ok: bool  # the secret itself is never kept
    grant_type: str
    scope: str
    at: float = field(default_factory=time.monotonic)


class FakeEntra:
    """`with FakeEntra() as entra:`; give msal `authority_base=entra.authority_base`, `verify=entra.ca_file`.

    Serves the tenant's OpenID configuration and its token endpoint for client credentials. `outage`:
    None (healthy), an HTTP status to answer with, or "drop" to close connections without an answer.
    """

    def __init__(
        self,
        client_id: str = APP_ID,
        client_secret: str = APP_PASSWORD,
        tenant_id: str = TENANT_ID,
        expires_in: int = 3600,
    ) -> None:
        self.client_id = client_id
        self._secret = client_secret
        self.tenant_id = tenant_id
        self.expires_in = expires_in
        self.outage: int | str | None = None
        self.token_requests: list[TokenRequest] = []
        self.discovery_requests = 0
        self.instance_discovery_requests = 0
        self._lock = threading.Lock()
        self._faults: list[tuple[int, dict[str, str]]] = []
        self._issued = 0
        self._dir = tempfile.TemporaryDirectory(prefix="fake-entra-")
        cert_file, key_file = _self_signed(Path(self._dir.name))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        self.ca_file = str(cert_file)
        self._http = _HTTPServer(self._route, tls=context)
        self.authority_base = f"https://127.0.0.1:{self._http.port}"

    def __enter__(self) -> FakeEntra:
        self._http.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.stop()
        self._dir.cleanup()

    @property
    def issued(self) -> list[str]:
        """Every access token handed out, in order."""
        return [f"fake-bot-token-{n}" for n in range(1, self._issued + 1)]

    def fail_next(self, status: int, times: int = 1, retry_after: int | None = None) -> None:
        """Answer the next `times` token requests with `status`."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self._lock:
            self._faults.extend([(status, headers)] * times)

    def _route(self, request: Request) -> Answer:
        base, tenant = self.authority_base, self.tenant_id
        with self._lock:
            if self.outage == "drop":
                raise _Drop
            if self.outage is not None:
                return _json(int(self.outage), {"error": "temporarily_unavailable"})
            if request.path.endswith("/discovery/instance"):
                self.instance_discovery_requests += 1
                return _json(400, {"error": "invalid_instance"})
            if request.method == "GET" and request.path == f"/{tenant}/v2.0/.well-known/openid-configuration":
                self.discovery_requests += 1
                return _json(
                    200,
                    {
                        "issuer": f"{base}/{tenant}/v2.0",
                        "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
                        "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
                        "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
                        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                        "response_types_supported": ["code", "id_token", "token id_token"],
                        "subject_types_supported": ["pairwise"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "tenant_region_scope": "NA",
                    },
                )
            if request.method == "POST" and request.path == f"/{tenant}/oauth2/v2.0/token":
                return self._token(request)
        return _json(404, {"error": "not_found", "error_description": f"no such path {request.path}"})

    def _token(self, request: Request) -> Answer:
        form = request.form()
        secret = form.get("client_secret")
        auth = request.headers.get("authorization", "")
        if secret is None and auth.lower().startswith("basic "):
            _, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        entry = TokenRequest(
            client_id=form.get("client_id", ""),
            secret_ok=hmac.compare_digest((secret or "").encode(), self._secret.encode()),
            grant_type=form.get("grant_type", ""),
            scope=form.get("scope", ""),
        )
        self.token_requests.append(entry)
        if self._faults:
            status, headers = self._faults.pop(0)
            return _json(status, {"error": "temporarily_unavailable", "error_description": "try later"}, headers)
        if entry.client_id != self.client_id or not entry.secret_ok:
            return _json(401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret."})
        if entry.grant_type != "client_credentials":
            return _json(400, {"error": "unsupported_grant_type"})
        self._issued += 1
        return _json(
            200,
            {
                "token_type": "Bearer",
                "expires_in": self.expires_in,
                "ext_expires_in": self.expires_in,
                "access_token": f"fake-bot-token-{self._issued}",
            },
        )


# -- Bot Connector ------------------------------------------------------------------------------------------


@dataclass
class ConnectorCall:
    method: str
    kind: str  # "send", "reply", "update", "create", or the fault status like "send!429"
    conversation_id: str | None
    activity_id: str | None
    body: Any
    authorization: str | None
    at: float = field(default_factory=time.monotonic)


class FakeBotConnector:
    """`with FakeBotConnector() as connector:`; use `connector.service_url` as the activity's serviceUrl.

    `accept_token`, when set, decides which bearer tokens are good (others get 401).
    """

    def __init__(self, accept_token: Callable[[str], bool] | None = None) -> None:
        self.accept_token = accept_token
        self.calls: list[ConnectorCall] = []
        self.conversations: dict[str, dict[str, Any]] = {}  # created conversation id -> its parameters
        # Per-test answers by kind ("send", "reply", "update", "create"), tried before the built-in ones.
        self.answers: dict[str, Callable[[Request], Answer]] = {}
        # Conversation id -> its members as Teams gives them (id, aadObjectId, name, email, userPrincipalName).
        self.members: dict[str, list[dict[str, Any]]] = {}
        self._activities: dict[str, list[dict[str, Any]]] = {}
        self._faults: list[tuple[int, dict[str, str], str | None]] = []
        self._lock = threading.Lock()
        self._ids = 0
        self._http = _HTTPServer(self._route)
        self.service_url = f"http://127.0.0.1:{self._http.port}/amer/"

    def __enter__(self) -> FakeBotConnector:
        self._http.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.stop()

    def fail_next(self, status: int, times: int = 1, retry_after: str | int | None = None, kind: str | None = None):
        """Answer the next `times` requests (of `kind` only, if given) with `status`."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        with self._lock:
            self._faults.extend([(status, headers, kind)] * times)

    def activities(self, conversation_id: str) -> list[dict[str, Any]]:
        """What the conversation shows now: sends and replies in order, updates applied in place."""
        with self._lock:
            return [dict(a) for a in self._activities.get(conversation_id, [])]

    def of(self, kind: str) -> list[ConnectorCall]:
        with self._lock:
            return [c for c in self.calls if c.kind == kind]

    def _next_id(self) -> str:
        self._ids += 1
        return f"1700000000{self._ids:03d}"

    def _route(self, request: Request) -> Answer:
        prefix = urlsplit(self.service_url).path.rstrip("/") + "/v3/conversations"
        if not request.path.startswith(prefix):
            return _json(404, {"error": {"code": "NotFound", "message": "unknown path"}})
        rest = [unquote(part) for part in request.path[len(prefix) :].split("/") if part]
        conversation = rest[0] if rest else None
        activity_id = rest[2] if len(rest) > 2 else None
        if request.method == "POST" and not rest:
            kind = "create"
        elif len(rest) >= 2 and rest[1] == "activities":
            kind = {"POST": "reply" if activity_id else "send", "PUT": "update"}.get(request.method, "other")
        elif request.method == "GET" and len(rest) in (2, 3) and rest[1] in ("members", "pagedmembers"):
            kind = "member" if len(rest) == 3 else "members"
        else:
            return _json(404, {"error": {"code": "NotFound", "message": "unknown path"}})
        body = request.json()
        authorization = request.headers.get("authorization")
        with self._lock:
            fault = next((f for f in self._faults if f[2] in (None, kind)), None)
            if fault is not None:
                self._faults.remove(fault)
                status, headers, _ = fault
                self.calls.append(ConnectorCall(request.method, f"{kind}!{status}", conversation, activity_id, body,
                                                authorization))  # fmt: skip
                return _json(status, {"error": {"code": "Throttled" if status == 429 else "ServiceError"}}, headers)
            token = (authorization or "").removeprefix("Bearer ")
            if self.accept_token is not None and not self.accept_token(token):
                self.calls.append(ConnectorCall(request.method, f"{kind}!401", conversation, activity_id, body,
                                                authorization))  # fmt: skip
                return _json(401, {"message": "Authorization has been denied for this request."})
            self.calls.append(ConnectorCall(request.method, kind, conversation, activity_id, body, authorization))
            if kind in self.answers:
                return self.answers[kind](request)
            if kind in ("members", "member"):
                return self._members(request, conversation or "", rest)
            if kind == "create":
                member = (body.get("members") or [{}])[0].get("id", "")
                new_id = f"a:1{hashlib.sha256(member.encode()).hexdigest()[:12]}"
                self.conversations[new_id] = body
                return _json(201, {"id": new_id})
            assert conversation is not None
            if kind == "update":
                stored = self._activities.get(conversation, [])
                for index, existing in enumerate(stored):
                    if existing.get("id") == activity_id:
                        stored[index] = {**body, "id": activity_id}
                        return _json(200, {"id": activity_id})
                return _json(404, {"error": {"code": "ActivityNotFoundInConversation"}})
            new_activity = {**body, "id": self._next_id()}
            if kind == "reply":
                new_activity["replyToId"] = activity_id
            self._activities.setdefault(conversation, []).append(new_activity)
            return _json(201, {"id": new_activity["id"]})

    def _members(self, request: Request, conversation: str, rest: list[str]) -> Answer:
        everyone = self.members.get(conversation)
        if everyone is None:
            return _json(404, {"error": {"code": "ConversationNotFound", "message": "no such conversation"}})
        if len(rest) == 3:  # one member, by Teams id, AAD object id or UPN
            wanted = rest[2].lower()
            keys = ("id", "aadObjectId", "userPrincipalName")
            found = next((m for m in everyone if wanted in {str(m.get(k, "")).lower() for k in keys}), None)
            if found is None:
                return _json(404, {"error": {"code": "MemberNotFoundInConversation", "message": "no such member"}})
            return _json(200, found)
        if rest[1] == "members":
            return _json(200, everyone)
        size = int(request.query.get("pageSize") or 500)
        start = int(request.query.get("continuationToken") or 0)
        page = {"members": everyone[start : start + size]}
        if start + size < len(everyone):
            page["continuationToken"] = str(start + size)
        return _json(200, page)
