"""Create the benchmark machine user and its client credentials over the admin API.

Prints one JSON line {"client_id": ..., "client_secret": ...}. Stdlib only.

    python bench/seed.py --base-url http://127.0.0.1:5055 --admin-token sgp_...
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request


def call(base: str, token: str, method: str, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(
        base + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                 "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        sys.exit(f"seed: {method} {path} -> {e.code} {e.read()[:500]!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--admin-token", required=True)
    ap.add_argument("--name", default="bench-client")
    ap.add_argument("--scope", action="append", default=None, help="repeatable; default: cli")
    args = ap.parse_args()
    scopes = args.scope or ["cli"]
    call(args.base_url, args.admin_token, "POST", "/api/v1/users",
         {"name": args.name, "scopes": scopes})
    creds = call(args.base_url, args.admin_token, "POST",
                 f"/api/v1/users/{args.name}/credentials")
    print(json.dumps({"client_id": creds["client_id"], "client_secret": creds["client_secret"]}))


if __name__ == "__main__":
    main()
