"""Signatures the chat robots and our own webhooks use (byte-exact).

- DingTalk custom robot, "加签": sign = urlencode(base64(HMAC-SHA256(key=secret,
  msg=f"{timestamp_ms}\\n{secret}"))), sent as `timestamp` and `sign` query parameters.
- Feishu/Lark custom bot: sign = base64(HMAC-SHA256(key=f"{timestamp_s}\\n{secret}",
  msg=b"")), sent in the JSON body with `timestamp`.
- TSCC outbound webhooks: header `X-TSCC-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
  f"{t}.{body}">`, so receivers can check freshness and integrity.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote_plus


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def feishu_sign(secret: str, timestamp_s: int) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def webhook_signature(secret: str, body: bytes, timestamp_s: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp_s}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp_s},v1={mac}"


def webhook_verify(
    secret: str, body: bytes, header: str, *, now_s: int, tolerance_s: int = 300
) -> bool:
    """Check a TSCC webhook signature header (constant-time, with freshness)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs(now_s - timestamp) > tolerance_s:
        return False
    expected = webhook_signature(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)
