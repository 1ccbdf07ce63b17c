"""A vendor token's snapshot post as a direct route (vendors/api/ingest.py):
each case goes through the ASGI application twice, once as deployed (the
direct route) and once with no direct routes (Django's middleware chain and
DRF), and the two answers must agree: status, body and headers. Requests
the route must not take still go through the chain."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
import redis

from tests.processes import free_port
from tests.vendors.api.test_api import figures as api_figures
from tests.vendors.conftest import minutes_ago
from tscc import redisclient
from tscc.asgihandler import PooledASGIHandler
from vendors.api.ingest import PATH
from vendors.models import IncidentImpact, QueueSnapshot

pytestmark = pytest.mark.django_db(transaction=True)

HOST = "localhost"
# Headers that differ between any two answers, or by design (below).
VOLATILE = {"date", "server", "content-length"}


class Counting:
    """Counts the requests that went through the middleware chain."""

    def __init__(self, chain):
        self.chain = chain
        self.calls = 0

    def __call__(self, request):
        self.calls += 1
        return self.chain(request)


@pytest.fixture
def make_apps():
    """The application as deployed (`direct`) and without direct routes
    (`full`), made after the test's settings (middlewares read them once)."""
    made = []

    def make():
        direct = PooledASGIHandler(threads=2)
        full = PooledASGIHandler(threads=2, direct_routes={})
        assert PATH in direct.direct_routes
        direct._middleware_chain = Counting(direct._middleware_chain)
        made.extend((direct, full))
        return direct, full

    yield make
    for app in made:
        app.close_connections()


@pytest.fixture
def apps(make_apps):
    return make_apps()


async def _call(
    app,
    headers: dict[str, str],
    body: bytes,
    method="POST",
    host=HOST,
    length=True,
    extra=(),
    query=b"",
):
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": query,
        "headers": [
            (b"host", host.encode()),
            *([(b"content-length", str(len(body)).encode())] if length else []),
            *((k.lower().encode(), v.encode()) for k, v in headers.items()),
            *extra,
        ],
        "client": ("127.0.0.1", 5000),
        "server": (HOST, 80),
    }
    # The body in two chunks, as a client may send it.
    pending = [
        {"type": "http.request", "body": body[: len(body) // 2], "more_body": True},
        {"type": "http.request", "body": body[len(body) // 2 :], "more_body": False},
    ]
    sent: list[dict] = []

    async def receive():
        if pending:
            return pending.pop(0)
        await asyncio.sleep(3600)  # no disconnect while the answer is built

    async def send(message):
        sent.append(message)

    await app(dict(scope), receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    answer_headers: dict[str, str] = {}
    for name, value in start["headers"]:
        answer_headers[name.decode().lower()] = value.decode("latin1")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], answer_headers, content


def post(app, body, *, secret=None, content_type="application/json", host=HOST, **headers):
    all_headers = {"content-type": content_type, **headers}
    if secret is not None:
        all_headers["authorization"] = f"Vendor {secret}"
    if not isinstance(body, bytes):
        body = json.dumps(body).encode()
    return asyncio.run(_call(app, all_headers, body, host=host))


def figures(queue_id, minutes: int, **extra) -> dict:
    """test_api's healthy figures, naming their queue."""
    return {"queue_id": queue_id, **api_figures(minutes, **extra)}


def comparable(headers: dict[str, str]) -> dict[str, str]:
    """Headers to compare. Vary is compared as a set, less Cookie: the
    chain's SessionAuthentication looks at the session first (so the chain
    adds `Vary: Cookie`); the direct route takes no request with a session
    cookie (wants()), so its answer does not vary by cookie."""
    out = {k: v for k, v in headers.items() if k not in VOLATILE and k != "vary"}
    out["vary"] = {v.strip() for v in headers.get("vary", "").split(",")} - {"Cookie", ""}
    return out


def same_answer(direct, full):
    (d_status, d_headers, d_body), (f_status, f_headers, f_body) = direct, full
    assert d_status == f_status, (d_body, f_body)
    assert int(d_headers["content-length"]) == len(d_body)
    assert int(f_headers["content-length"]) == len(f_body)
    assert json.loads(d_body) == json.loads(f_body)
    assert comparable(d_headers) == comparable(f_headers)


# --- the same answers ---------------------------------------------------------------


def test_a_post_is_the_same_snapshot_either_way(apps, tokens, queue):
    direct, full = apps
    d = post(direct, figures(queue.id, 3), secret=tokens.secret_a)
    f = post(full, figures(queue.id, 4), secret=tokens.secret_a)
    assert d[0] == f[0] == 201, (d[2], f[2])
    assert direct._middleware_chain.calls == 0  # the direct route answered
    d_body, f_body = json.loads(d[2]), json.loads(f[2])
    assert d_body.keys() == f_body.keys()
    # Times in the same zone (the default one, for a token) either way.
    for name in ("taken_at", "created_at"):
        assert d_body[name][-6:] == f_body[name][-6:], (d_body[name], f_body[name])
    for varying in ("id", "taken_at", "created_at"):
        d_body.pop(varying), f_body.pop(varying)
    assert d_body == f_body
    assert d_body["source"] == "token" and d_body["reported_by"] is None
    assert d_body["vendor"] == queue.vendor_id
    assert comparable(d[1]) == comparable(f[1])
    saved = QueueSnapshot.objects.get(id=json.loads(d[2])["id"])
    assert saved.taken_at == minutes_ago(3) and saved.source == "token"
    assert saved.planned_headcount == queue.planned_headcount


@pytest.mark.parametrize(
    "case",
    [
        "bad header",
        "unknown secret",
        "revoked",
        "other vendor's queue",
        "no such queue",
        "not an object",
        "not JSON",
        "NaN",
        "empty body",
        "bad figures",
        "queue id text",
        "too old",
    ],
)
def test_refusals_are_the_same_either_way(apps, tokens, queue, other_queue, case):
    direct, full = apps
    secret, body = tokens.secret_a, figures(queue.id, 5)
    if case == "bad header":
        secret = "a b"
    elif case == "unknown secret":
        secret = "vnd_" + "x" * 43
    elif case == "revoked":
        secret = tokens.secret_revoked
    elif case == "other vendor's queue":
        body = figures(other_queue.id, 5)
    elif case == "no such queue":
        body = figures(987654, 5)
    elif case == "not an object":
        body = [1, 2]
    elif case == "not JSON":
        body = b'{"queue_id": '
    elif case == "NaN":
        body = json.dumps(figures(queue.id, 5)).replace("98.0", "NaN").encode()
    elif case == "empty body":
        body = b""
    elif case == "bad figures":
        body = figures(queue.id, 5, sla_attainment=140, backlog=-1)
    elif case == "queue id text":
        body = figures("abc", 5)
    elif case == "too old":
        body = figures(queue.id, 60 * 24 * 8)
    d, f = post(direct, body, secret=secret), post(full, body, secret=secret)
    assert d[0] in (400, 401, 404), d
    same_answer(d, f)
    assert direct._middleware_chain.calls == 0
    assert not QueueSnapshot.objects.exists()  # nothing written either way


def test_a_duplicate_is_409_either_way(apps, tokens, queue):
    direct, full = apps
    assert post(direct, figures(queue.id, 6), secret=tokens.secret_a)[0] == 201
    again = figures(queue.id, 6, backlog=99)
    d, f = post(direct, again, secret=tokens.secret_a), post(full, again, secret=tokens.secret_a)
    assert d[0] == 409
    same_answer(d, f)
    assert json.loads(d[2])["code"] == "duplicate"
    assert QueueSnapshot.objects.get().backlog == 40  # the first figures stand


def test_chinese_answers_either_way(apps, tokens, queue):
    direct, full = apps
    body = figures(queue.id, 5, sla_attainment=140)
    d = post(direct, body, secret=tokens.secret_a, **{"accept-language": "zh-hans"})
    f = post(full, body, secret=tokens.secret_a, **{"accept-language": "zh-hans"})
    same_answer(d, f)
    assert d[1]["content-language"] == "zh-hans"
    assert re.search(r"[\u4e00-\u9fff]", json.loads(d[2])["detail"])


def test_an_inactive_vendor_s_token_is_401_either_way(apps, tokens, manager, vendor, queue):
    from vendors import services

    services.vendor_update(actor=manager, vendor_id=vendor.id, is_active=False)
    direct, full = apps
    body = figures(queue.id, 5)
    d, f = post(direct, body, secret=tokens.secret_a), post(full, body, secret=tokens.secret_a)
    assert d[0] == 401 and d[1]["www-authenticate"].startswith('Vendor realm="vendors"')
    same_answer(d, f)


def test_the_token_throttle_counts_direct_posts(apps, settings, tokens, queue):
    rates = dict(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], vendor_token="2/min")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    direct, full = apps
    statuses = [post(direct, figures(queue.id, m), secret=tokens.secret_a)[0] for m in (1, 2, 3)]
    assert statuses == [201, 201, 429]
    d = post(direct, figures(queue.id, 4), secret=tokens.secret_a)
    f = post(full, figures(queue.id, 4), secret=tokens.secret_a)  # the same count
    assert d[0] == f[0] == 429
    assert 0 < int(d[1]["retry-after"]) <= 60
    # The message names the seconds left, which may tick between the two.
    detail = re.sub(r"\d+", "N", json.loads(d[2])["detail"])
    assert detail == re.sub(r"\d+", "N", json.loads(f[2])["detail"])
    assert comparable(d[1]).keys() == comparable(f[1]).keys()
    assert QueueSnapshot.objects.count() == 2


def test_breaching_figures_open_trouble_from_a_direct_post(apps, tokens, queue, breached):
    direct, _full = apps
    body = {"queue_id": queue.id, **breached()}
    body["taken_at"] = body["taken_at"].isoformat()
    status, _headers, content = post(direct, body, secret=tokens.secret_a)
    assert status == 201, content
    # The trouble check ran after the insert committed (autocommit).
    assert IncidentImpact.objects.filter(trouble_key=f"queue:{queue.id}").exists()


def test_redis_out_is_503_with_retry_after(apps, tokens, queue, monkeypatch):
    direct, _full = apps
    monkeypatch.setattr(redisclient, "_client", redis.Redis(port=free_port(), socket_timeout=1))
    status, headers, content = post(direct, figures(queue.id, 5), secret=tokens.secret_a)
    assert status == 503 and headers["retry-after"] == "10"
    assert json.loads(content)["code"] == "unavailable"
    assert not QueueSnapshot.objects.exists()


# --- what the direct route leaves to the full stack -----------------------------------


def test_people_posts_go_through_the_chain(apps, lead, queue):
    from tscc.services import api_token_create

    direct, _full = apps
    _token, secret = api_token_create(actor=lead, user=lead, name="script")
    status, _headers, content = asyncio.run(
        _call(
            direct,
            {"content-type": "application/json", "authorization": f"Bearer {secret}"},
            json.dumps(figures(queue.id, 2)).encode(),
        )
    )
    assert status == 201, content
    assert json.loads(content)["reported_by"] == lead.id
    assert direct._middleware_chain.calls == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"content-type": "text/plain"},  # DRF answers 415
        {"content-type": "application/json; charset=latin-1"},
        {"cookie": "sessionid=abc"},  # a session would authenticate first in DRF
        {"accept": "application/xml"},  # DRF answers 406 and writes nothing
        {"accept": "text/html"},  # DRF's browsable API
    ],
)
def test_other_requests_go_through_the_chain(apps, tokens, queue, headers):
    direct, full = apps
    d = post(direct, figures(queue.id, 2), secret=tokens.secret_a, **headers)
    f = post(full, figures(queue.id, 3), secret=tokens.secret_a, **headers)
    assert direct._middleware_chain.calls == 1
    assert d[0] == f[0]


def test_a_get_and_a_disallowed_host_go_through_the_chain(apps, tokens, queue):
    direct, _full = apps
    status, _h, _b = asyncio.run(
        _call(direct, {"authorization": f"Vendor {tokens.secret_a}"}, b"", method="GET")
    )
    assert status == 200 and direct._middleware_chain.calls == 1
    status, _h, _b = post(direct, figures(queue.id, 2), secret=tokens.secret_a, host="evil.example")
    assert status == 400  # Django's DisallowedHost
    assert direct._middleware_chain.calls == 2
    assert not QueueSnapshot.objects.exists()


def test_plain_http_is_redirected_as_by_the_chain(make_apps, settings, tokens, queue):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    direct, full = make_apps()
    body = figures(queue.id, 2)
    d = post(direct, body, secret=tokens.secret_a)
    f = post(full, body, secret=tokens.secret_a)
    assert d[0] == f[0] == 301, (d, f)
    assert d[1]["location"] == f[1]["location"]
    assert direct._middleware_chain.calls == 1
    # Behind the TLS proxy (X-Forwarded-Proto), the direct route answers.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    d = post(direct, body, secret=tokens.secret_a, **{"x-forwarded-proto": "https"})
    assert d[0] == 201 and direct._middleware_chain.calls == 1
    assert d[1]["strict-transport-security"].startswith("max-age=3600")


def test_an_oversized_body_goes_through_the_chain(apps, settings, tokens, queue):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    direct, full = apps
    body = figures(queue.id, 2, padding="x" * 200)
    d = post(direct, body, secret=tokens.secret_a)
    f = post(full, body, secret=tokens.secret_a)
    assert direct._middleware_chain.calls == 1
    assert d[0] == f[0]


def test_a_body_of_no_declared_length_goes_through_the_chain(apps, tokens, queue):
    # Chunked: the direct route reads only bodies of a declared size into memory.
    direct, full = apps
    headers = {"content-type": "application/json", "authorization": f"Vendor {tokens.secret_a}"}
    body = json.dumps(figures(queue.id, 2)).encode()
    d = asyncio.run(_call(direct, headers, body, length=False))
    f = asyncio.run(_call(full, headers, body, length=False))
    assert direct._middleware_chain.calls == 1
    same_answer(d, f)  # DRF reads no body without a length: 400, queue_id required


def test_a_json_accepting_client_takes_the_direct_route(apps, tokens, queue):
    direct, _full = apps
    # As axios and browsers' fetch send it.
    accept = {"accept": "application/json, text/plain, */*"}
    assert post(direct, figures(queue.id, 2), secret=tokens.secret_a, **accept)[0] == 201
    assert direct._middleware_chain.calls == 0


def test_two_authorization_headers_go_through_the_chain(apps, tokens, lead, queue):
    from tscc.services import api_token_create

    direct, full = apps
    _token, bearer = api_token_create(actor=lead, user=lead, name="script")
    extra = [(b"authorization", f"Bearer {bearer}".encode())]
    headers = {"content-type": "application/json", "authorization": f"Vendor {tokens.secret_a}"}
    body = json.dumps(figures(queue.id, 2)).encode()
    d = asyncio.run(_call(direct, headers, body, extra=extra))
    assert direct._middleware_chain.calls == 1
    f = asyncio.run(_call(full, headers, json.dumps(figures(queue.id, 3)).encode(), extra=extra))
    assert d[0] == f[0]


def test_a_query_string_goes_through_the_chain(apps, tokens, queue):
    direct, _full = apps
    headers = {"content-type": "application/json", "authorization": f"Vendor {tokens.secret_a}"}
    body = json.dumps(figures(queue.id, 2)).encode()
    status, _h, _b = asyncio.run(_call(direct, headers, body, query=b"format=json"))
    assert status == 201 and direct._middleware_chain.calls == 1  # DRF's own ?format=


def test_the_route_is_the_snapshot_list_url():
    from django.urls import reverse

    assert reverse("api-vendor-snapshots") == PATH
