"""Profile one API request in-process with pyinstrument (where does a request's time go?).

    python -m bench.profile_request /transactions/by-month/2026/10 [--user user_bench_30k]
        [--repeat 20] [--method GET] [--body '{...}']

Runs against `DATABASE_URL` (the database `bench.http_bench` seeds and imports its households
into) with the production settings (DEBUG off, plain http), a run-specific key pair as
`CLERK_JWT_KEY`, and prints pyinstrument's call tree of `--repeat` requests plus the mean wall
time per request.
"""

import argparse
import os
import time

from bench.http_bench import AZP, make_key_pair, mint


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path")
    parser.add_argument("--user", default="user_bench_30k")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body", default="")
    args = parser.parse_args()

    key, public_pem = make_key_pair()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="household_ledger.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789"),
        DJANGO_ALLOWED_HOSTS="testserver",
        DJANGO_SECURE_SSL_REDIRECT="false",
        CLERK_JWT_KEY=public_pem,
        CLERK_AUTHORIZED_PARTIES=AZP,
        THROTTLE_RATE_USER="100000/s",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.test import Client
    from pyinstrument import Profiler

    token = mint(key, args.user)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def call():
        if args.method == "GET":
            response = client.get(args.path)
        else:
            response = client.generic(
                args.method, args.path, args.body, content_type="application/json"
            )
        assert response.status_code < 400, (response.status_code, response.content[:300])
        return response

    call()  # warm: connection, caches, imports
    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    with profiler:
        for _ in range(args.repeat):
            response = call()
    elapsed = (time.perf_counter() - started) / args.repeat
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    print(
        f"{args.method} {args.path}: {elapsed * 1000:.2f} ms per request "
        f"({len(response.content)} bytes), load average {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
