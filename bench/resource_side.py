"""Resource-side benchmark (issue 11): verifications per second in-process,
on one core, side by side with peers in the same run, and the measured
staleness after a revocation. Not a test: it asserts nothing.

    .venv/bin/python bench/resource_side.py [--seconds 1.0] [--rounds 5]

It starts two throwaway Scopegate servers (gunicorn, SQLite in a temporary
directory): one issuing opaque tokens, one issuing RFC 9068 JWTs. The
process pins itself to one CPU, so every rate is single-core. Each figure is
the median of ``--rounds`` timed rounds of ``--seconds`` each.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import jwt as pyjwt
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sdk.auth.exceptions import AuthenticationError  # noqa: E402
from sdk.resource import TokenVerifier  # noqa: E402

BIN = Path(sys.executable).parent


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A Scopegate process with an org, an admin, a resource server and a user."""

    def __init__(self, tmp: Path, token_format: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "SCOPEGATE_DATABASE_URL": f"sqlite:///{tmp}/{token_format}.db",
                    "SCOPEGATE_SECRET_KEY": "bench", "SCOPEGATE_ISSUER": self.url,
                    "SCOPEGATE_ACCESS_TOKEN_FORMAT": token_format,
                    # thousands of introspections from one address: a load benchmark
                    "SCOPEGATE_RATE_LIMITS": "off"}
        self.flask("init-db")
        self.flask("create-org", "bench")
        self.flask("create-admin", "--org", "bench", "--email", "admin@bench.test")
        self.admin = self.flask("issue-admin-token", "--email", "admin@bench.test")["token"]
        self.rs = self.flask("create-resource-server", f"bench-{token_format}")
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", "1",
             "wsgi:app"], cwd=ROOT, env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                if requests.get(f"{self.url}/readyz", timeout=5).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        self.api("POST", "/users", {"name": "bench-user"})

    def flask(self, *args: str) -> dict:
        out = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *args, "--json"], cwd=ROOT,
                             env=self.env, capture_output=True, text=True, check=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    def api(self, method: str, path: str, body=None) -> dict:
        response = requests.request(method, f"{self.url}/api/v1{path}", json=body, timeout=10,
                                    headers={"Authorization": f"Bearer {self.admin}"})
        response.raise_for_status()
        return response.json() if response.content else {}

    def token(self) -> dict:
        return self.api("POST", "/users/bench-user/tokens", {"scopes": ["create_session"]})

    def verifier(self, **options) -> TokenVerifier:
        return TokenVerifier(self.url, self.rs["client_id"], self.rs["client_secret"], **options)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def rate(fn, seconds: float, rounds: int) -> tuple[float, float]:
    """Median calls per wall second, and per CPU second of this thread, over
    ``rounds`` rounds of about ``seconds`` each. On a shared machine the CPU
    figure is what one core of our own does; the wall figure what we got."""
    wall, cpu = [], []
    for _ in range(rounds):
        n, batch = 0, 256
        start, cpu_start = time.perf_counter(), time.thread_time()
        while (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(batch):
                fn()
            n += batch
        wall.append(n / elapsed)
        cpu.append(n / max(time.thread_time() - cpu_start, 1e-9))
    return statistics.median(wall), statistics.median(cpu)


def staleness(server: Server, hosts: int = 2, trials: int = 5) -> list[float]:
    """Seconds from the revocation's answer until every host refuses the token
    (default poll period), each host verifying every 5 ms meanwhile."""
    worst = []
    verifiers = [server.verifier() for _ in range(hosts)]
    for _ in range(trials):
        issued = server.token()
        for v in verifiers:
            v.verify(issued["token"])
        server.api("DELETE", f"/tokens/{issued['token_id']}")
        start, pending = time.monotonic(), set(range(hosts))
        while pending:
            for i in list(pending):
                try:
                    verifiers[i].verify(issued["token"])
                except AuthenticationError:
                    pending.discard(i)
            time.sleep(0.005)
        worst.append(time.monotonic() - start)
    return worst


def authlib_validator(server: Server):
    """Authlib's RFC 9068 resource-server path (JWTBearerTokenValidator)."""
    from authlib.oauth2.rfc9068 import JWTBearerTokenValidator

    # Authlib 1.9 warns about its own use of joserfc on every call.
    warnings.filterwarnings("ignore", module="authlib")
    warnings.filterwarnings("ignore", message=".*import_key_set.*")

    jwks = requests.get(f"{server.url}/oauth/jwks", timeout=5).json()

    class Validator(JWTBearerTokenValidator):
        def get_jwks(self):
            return jwks

    validator = Validator(issuer=server.url, resource_server=server.url)

    def check(token: str) -> None:
        claims = validator.authenticate_token(token)
        validator.validate_token(claims, ["create_session"], None)

    return check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        opaque, jwt_server = Server(Path(tmp), "opaque"), Server(Path(tmp), "jwt")
        if hasattr(os, "sched_setaffinity"):  # after the servers started: only this process
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        try:
            rows = measure(opaque, jwt_server, args.seconds, args.rounds)
            stale = staleness(opaque) + staleness(jwt_server)
        finally:
            opaque.stop()
            jwt_server.stop()
    load_after = os.getloadavg()
    report(rows, stale, load_before, load_after, args)


def measure(opaque: Server, jwt_server: Server, seconds: float, rounds: int) -> list:
    scopes = ["create_session"]
    o_token, j_token = opaque.token()["token"], jwt_server.token()["token"]
    ov, jv = opaque.verifier(poll_interval=3600), jwt_server.verifier(poll_interval=3600)
    ov.verify(o_token), jv.verify(j_token)
    jwks = pyjwt.PyJWKSet.from_dict(requests.get(f"{jwt_server.url}/oauth/jwks",
                                                 timeout=5).json())
    kid = pyjwt.get_unverified_header(j_token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)  # the RS256 key (keys.py)
    session = requests.Session()
    auth = (opaque.rs["client_id"], opaque.rs["client_secret"])

    def jwt_first_sight():
        jv._cache.clear()
        jv.verify(j_token, scopes)

    def introspect_every_time():
        session.post(f"{opaque.url}/oauth/introspect", data={"token": o_token}, auth=auth,
                     timeout=5).json()

    def pyjwt_decode():
        pyjwt.decode(j_token, key, algorithms=["RS256"], audience=jwt_server.url,
                     issuer=jwt_server.url)

    authlib_check = authlib_validator(jwt_server)
    rs256, es256 = signature_floors(j_token, key)
    return [
        ("opaque, cached", "sdk.resource TokenVerifier.verify", rate(
            lambda: ov.verify(o_token, scopes), seconds, rounds)),
        ("opaque, no cache", "one RFC 7662 introspection per call (requests, live server)",
         rate(introspect_every_time, seconds, rounds)),
        ("JWT, validated locally", "TokenVerifier.verify, cache cleared each call",
         rate(jwt_first_sight, seconds, rounds)),
        ("JWT, validated locally", "PyJWT 2 jwt.decode (RS256, aud, iss)",
         rate(pyjwt_decode, seconds, rounds)),
        ("JWT, validated locally", "Authlib JWTBearerTokenValidator (joserfc)",
         rate(lambda: authlib_check(j_token), seconds, rounds)),
        ("JWT, cached", "TokenVerifier.verify, same token again",
         rate(lambda: jv.verify(j_token, scopes), seconds, rounds)),
        ("floor", "RS256 signature check alone, 2048-bit (cryptography/OpenSSL)",
         rate(rs256, seconds, rounds)),
        ("floor, tokens from before RS256", "ES256 signature check alone, P-256",
         rate(es256, seconds, rounds)),
    ]


def signature_floors(token: str, key):
    """The signature checks alone: what no JWT library can go below. RS256 on
    the issued token with the JWKS key; ES256 (what access tokens were signed
    with before) on the same input with a key made here."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding

    head, payload, signature = token.split(".")
    raw = base64.urlsafe_b64decode(signature + "==")
    signed, pkcs1, sha256 = f"{head}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256()
    rsa_key, ecdsa = key.key, ec.ECDSA(hashes.SHA256())
    ec_private = ec.generate_private_key(ec.SECP256R1())
    der, ec_key = ec_private.sign(signed, ecdsa), ec_private.public_key()
    return (lambda: rsa_key.verify(raw, signed, pkcs1, sha256),
            lambda: ec_key.verify(der, signed, ecdsa))


def report(rows, stale, load_before, load_after, args) -> None:
    import authlib
    import cryptography

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"python {platform.python_version()}, cryptography {cryptography.__version__}, "
          f"PyJWT {pyjwt.__version__}, Authlib {authlib.__version__}")
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")
    print(f"{args.rounds} rounds x {args.seconds} s, median; one core (sched_setaffinity)\n")
    print("| token | path | per wall second | per CPU second | CPU µs each |")
    print("| --- | --- | ---: | ---: | ---: |")
    for kind, path, (per_wall, per_cpu) in rows:
        print(f"| {kind} | {path} | {per_wall:,.0f} | {per_cpu:,.0f} | {1e6 / per_cpu:.1f} |")
    print(f"\nstaleness after revocation (2 hosts, poll 2 s, {len(stale)} trials): "
          f"median {statistics.median(stale):.2f} s, max {max(stale):.2f} s")


if __name__ == "__main__":
    main()
