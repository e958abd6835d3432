"""Small security helpers shared by the throttles and the admin login lockout."""

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's IP: REMOTE_ADDR, or the address TRUSTED_PROXY_COUNT proxies back.

    X-Forwarded-For is written by the client first and each proxy appends, so only the entries
    added by our own proxies can be trusted; with no trusted proxy the header is ignored.
    """
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    remote_addr = request.META.get("REMOTE_ADDR")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote_addr
    addresses = [address.strip() for address in forwarded.split(",") if address.strip()]
    if not addresses:
        return remote_addr
    return addresses[-min(proxies, len(addresses))]
