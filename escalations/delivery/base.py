from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail

from escalations.domain.signing import dingtalk_sign, feishu_sign, webhook_signature
from tscc.realtime import notify_user

TIMEOUT_SECONDS = 5


class DeliveryError(Exception):
    """The provider refused or could not be reached; the caller retries."""


@dataclass(frozen=True)
class Target:
    user_id: int
    address: str = ""
    secret: str = ""


@dataclass(frozen=True)
class Message:
    title: str
    text: str
    url: str
    ack_url: str
    idempotency_key: str


def _post_json(url: str, payload: dict, headers: dict | None = None) -> str:
    body = json.dumps(payload, ensure_ascii=False).encode()
    if not url.startswith(("https://", "http://")):
        raise DeliveryError("the address is not an http(s) URL")
    try:
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310
            reply = response.read(2000).decode("utf-8", "replace")
            if response.status >= 300:
                raise DeliveryError(f"HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise DeliveryError(type(exc).__name__) from None
    return reply[:200]


def send_app(target: Target, message: Message) -> str:
    notify_user(target.user_id, text=f"{message.title} — {message.text}", level="danger")
    return "app"


def send_email(target: Target, message: Message) -> str:
    try:
        send_mail(
            message.title,
            f"{message.text}\n\n{message.url}\nAcknowledge: {message.ack_url}",
            settings.DEFAULT_FROM_EMAIL,
            [target.address],
            fail_silently=False,
        )
    except Exception as exc:  # noqa: BLE001 - any SMTP failure is a failed attempt
        raise DeliveryError(type(exc).__name__) from None
    return "email"


def send_webhook(target: Target, message: Message) -> str:
    payload = {
        "title": message.title,
        "text": message.text,
        "url": message.url,
        "ack_url": message.ack_url,
        "idempotency_key": message.idempotency_key,
    }
    body = json.dumps(payload, ensure_ascii=False).encode()
    headers = {"Idempotency-Key": message.idempotency_key}
    if target.secret:
        headers["X-TSCC-Signature"] = webhook_signature(target.secret, body, int(time.time()))
    return _post_json(target.address, payload, headers)


def _chat_text(message: Message) -> str:
    return f"{message.title}\n{message.text}\n{message.url}\n确认 / Acknowledge: {message.ack_url}"


def send_feishu(target: Target, message: Message) -> str:
    payload: dict = {"msg_type": "text", "content": {"text": _chat_text(message)}}
    if target.secret:
        ts = int(time.time())
        payload.update(timestamp=str(ts), sign=feishu_sign(target.secret, ts))
    return _post_json(target.address, payload)


def send_dingtalk(target: Target, message: Message) -> str:
    url = target.address
    if target.secret:
        ts = int(time.time() * 1000)
        url += (
            "&" if "?" in url else "?"
        ) + f"timestamp={ts}&sign={dingtalk_sign(target.secret, ts)}"
    return _post_json(url, {"msgtype": "text", "text": {"content": _chat_text(message)}})


def send_wecom(target: Target, message: Message) -> str:
    return _post_json(target.address, {"msgtype": "text", "text": {"content": _chat_text(message)}})


def send_slack(target: Target, message: Message) -> str:
    return _post_json(target.address, {"text": _chat_text(message)})


def send_sms(target: Target, message: Message) -> str:
    """SMS and voice go through one provider interface: an HTTP gateway
    (SMS_GATEWAY_URL) that takes {"to", "text"}; unset means not configured."""
    gateway = getattr(settings, "SMS_GATEWAY_URL", "")
    if not gateway:
        raise DeliveryError("no SMS gateway configured")
    return _post_json(gateway, {"to": target.address, "text": f"{message.title} {message.ack_url}"})


ADAPTERS: dict[str, Callable[[Target, Message], str]] = {
    "app": send_app,
    "email": send_email,
    "webhook": send_webhook,
    "feishu": send_feishu,
    "dingtalk": send_dingtalk,
    "wecom": send_wecom,
    "slack": send_slack,
    "sms": send_sms,
    "voice": send_sms,
}


def adapter_for(channel: str) -> Callable[[Target, Message], str]:
    return ADAPTERS[channel]
