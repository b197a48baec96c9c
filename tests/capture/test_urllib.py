"""The stdlib `urllib.request` capture: one span per provider call, bytes untouched, fail-open.

Driven with raw `urlopen` against a local server mapped to Twilio (a JSON answer with
`num_segments`, priced at $0.0083 per segment: https://www.twilio.com/en-us/sms/pricing/us).
"""

from __future__ import annotations

import json
import urllib.request
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode

import pytest
from wire import On, Reply, WireServer, map_host

PATH = "/2010-04-01/Accounts/AC123/Messages.json"
MESSAGE = {"sid": "SM1", "num_segments": "3", "price": None, "price_unit": "USD", "status": "queued"}
BODY = json.dumps(MESSAGE, indent=2).encode()  # several lines, to read line by line


def _reply(request):
    return Reply(201, BODY, {"content-type": "application/json"})


def _post(server: WireServer, path: str = PATH) -> urllib.request.Request:
    data = urlencode({"To": "+15558675310", "From": "+15017122661", "Body": "hi"}).encode()
    return urllib.request.Request(server.url + path, data=data)


@pytest.mark.parametrize(
    "read",
    [
        lambda r: r.read(),
        lambda r: b"".join(iter(lambda: r.read(7), b"")),
        lambda r: b"".join(r),
        lambda r: b"".join(r.readlines()),
        lambda r: b"".join(iter(lambda: r.read1(5), b"")),
    ],
    ids=["read", "read-7", "iterate", "readlines", "read1"],
)
def test_every_read_path_gets_the_exact_bytes_and_one_priced_span(spans, read):
    with WireServer([On("POST", PATH, _reply)]) as server:
        map_host(server, "twilio")
        with urllib.request.urlopen(_post(server)) as response:
            assert response.status == 201
            assert isinstance(response, urllib.request.http.client.HTTPResponse)  # the proxy is transparent
            assert read(response) == BODY
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.segments"] == 3
    assert attrs["llmobserve.cost.usd"] == pytest.approx(3 * 0.0083, abs=1e-12)  # $0.0249
    assert "llmobserve.usage.incomplete" not in attrs


def test_readinto_gets_the_exact_bytes(spans):
    with WireServer([On("POST", PATH, _reply)]) as server:
        map_host(server, "twilio")
        response = urllib.request.urlopen(_post(server))
        buffer = bytearray(len(BODY) + 10)
        count = response.readinto(buffer)
        assert bytes(buffer[:count]) == BODY
        response.close()
    assert spans.one_call()["llmobserve.usage.segments"] == 3


def test_closed_before_reading_ends_the_span_once_without_usage(spans):
    with WireServer([On("POST", PATH, _reply)]) as server:
        map_host(server, "twilio")
        response = urllib.request.urlopen(_post(server))
        response.close()
        response.close()
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.incomplete"] is True
    assert "llmobserve.usage.segments" not in attrs


def test_malformed_body_reaches_the_app_untouched_and_marks_the_span(spans):
    broken = b'{"num_segments": "2", '
    with WireServer(
        [On("POST", PATH, lambda r: Reply(201, broken, {"content-type": "application/json"}))]
    ) as server:
        map_host(server, "twilio")
        assert urllib.request.urlopen(_post(server)).read() == broken
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.status"] == "malformed JSON body"
    assert "llmobserve.cost.usd" not in attrs


def test_http_error_is_raised_to_the_app_with_its_body_and_the_span_marked(spans):
    error = {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400}
    with WireServer([On("POST", PATH, lambda r: Reply.json(error, 400))]) as server:
        map_host(server, "twilio")
        with pytest.raises(HTTPError) as raised:
            urllib.request.urlopen(_post(server))
        assert json.loads(raised.value.read()) == error
    calls = spans.provider_calls()
    assert len(calls) == 1
    attrs = dict(calls[0].attributes or {})
    assert attrs["http.response.status_code"] == 400
    assert "llmobserve.cost.usd" not in attrs
    assert calls[0].status.status_code.name == "ERROR"


def test_connection_failure_is_raised_and_recorded(spans):
    with WireServer([]) as server:
        url = server.url
        map_host(server, "twilio")
    request = urllib.request.Request(url + PATH, data=b"To=%2B1")
    with pytest.raises(URLError):
        urllib.request.urlopen(request, timeout=5)
    calls = spans.provider_calls()
    assert len(calls) == 1
    assert calls[0].status.status_code.name == "ERROR"
    assert (calls[0].attributes or {})["error.type"] == "URLError"


def test_redirect_is_one_span(spans):
    moved = PATH.replace("AC123", "AC999")
    routes = [
        On("POST", PATH, lambda r: Reply(303, b"", {"location": moved})),  # urllib re-asks with GET
        On("GET", moved, _reply),
    ]
    with WireServer(routes) as server:
        map_host(server, "twilio")
        assert urllib.request.urlopen(_post(server)).read() == BODY
        assert [r.path for r in server.requests] == [PATH, moved]
    attrs = spans.one_call()
    assert attrs["llmobserve.usage.segments"] == 3  # the final answer's


def test_other_hosts_and_unbilled_paths_pass_through_without_a_span(spans):
    with WireServer([On("GET", r"/.*", lambda r: Reply.json({"ok": True}))]) as server:
        assert json.loads(urllib.request.urlopen(server.url + "/health").read()) == {"ok": True}
        map_host(server, "twilio")
        assert json.loads(urllib.request.urlopen(server.url + PATH).read()) == {"ok": True}  # GET: a fetch
    assert spans.provider_calls() == []


def test_uninstrument_and_instrument_again(spans):
    from llmobserve_otel import capture
    from llmobserve_otel.capture.urllib import CAPTURE

    CAPTURE.uninstrument()
    try:
        assert not CAPTURE.instrumented
        assert "open" not in urllib.request.OpenerDirector.__dict__ or not hasattr(
            urllib.request.OpenerDirector.__dict__["open"], "_self_wrapper"
        )
        with WireServer([On("POST", PATH, _reply)]) as server:
            map_host(server, "twilio")
            assert urllib.request.urlopen(_post(server)).read() == BODY
        assert spans.provider_calls() == []
    finally:
        capture.instrument(["urllib"])
    assert CAPTURE.instrumented


@pytest.mark.parametrize("imported_first", [False, True], ids=["imported-after-observe", "imported-before"])
def test_observe_instruments_urllib_whenever_it_is_imported(imported_first):
    import subprocess
    import sys

    code = "\n".join(
        [
            "import sys",
            "import urllib.request" if imported_first else "sys.modules.pop('urllib.request', None)",
            "import llmobserve_otel as lo",
            "assert 'llmobserve_otel.capture.urllib' not in sys.modules",  # importing us loads no capture
            "lo.observe(service_name='t', export=False)",
            "import urllib.request",
            "from llmobserve_otel import capture",
            "print(sorted(n for n in capture.instrumented() if n == 'urllib'))",
        ]
    )
    env = {"PATH": "/usr/bin:/bin", "OTEL_TRACES_EXPORTER": "none"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['urllib']"


def test_gzip_body_is_passed_raw_and_decoded_on_our_side_only(spans):
    import gzip

    packed = gzip.compress(BODY)
    reply = Reply(201, packed, {"content-type": "application/json", "content-encoding": "gzip"})
    with WireServer([On("POST", PATH, lambda r: reply)]) as server:
        map_host(server, "twilio")
        assert urllib.request.urlopen(_post(server)).read() == packed  # urllib does not decompress
    assert spans.one_call()["llmobserve.usage.segments"] == 3


@pytest.mark.parametrize("where", ["request_info", "parse_json"])
def test_an_internal_error_never_reaches_the_app(spans, monkeypatch, where):
    from llmobserve_otel.providers import twilio

    def broken(*args, **kwargs):
        raise RuntimeError("bug in a provider module")

    monkeypatch.setenv("LLMOBSERVE_RAISE_INTERNAL_ERRORS", "0")  # production behaviour: log, carry on
    monkeypatch.setattr(twilio, where, broken)
    with WireServer([On("POST", PATH, _reply)]) as server:
        map_host(server, "twilio")
        with urllib.request.urlopen(_post(server)) as response:
            assert response.read() == BODY
    calls = spans.provider_calls()
    if where == "request_info":  # the call could not be described: no span, the request went out as is
        assert calls == []
    else:  # the span still ends, once, saying why there is no usage
        assert len(calls) == 1
        assert (calls[0].attributes or {})["llmobserve.usage.status"] == "usage not parsed: RuntimeError"
    assert all("llmobserve.cost.usd" not in (c.attributes or {}) for c in calls)
