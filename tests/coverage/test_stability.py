"""Stability AI Stable Image generation over raw HTTP (httpx): no Python SDK exists for REST v2beta.

Price (https://platform.stability.ai/pricing): $0.01 per credit; Ultra 8 credits, Core 3,
SD3.5 Large 6.5, SD3.5 Medium 3.5 credits per image.
"""

from __future__ import annotations

import base64

import httpx
import pytest
from wire import On, Reply, WireServer, map_host

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 256
BOUNDARY = "llmobserve-test-boundary"


def _form(**fields: str) -> bytes:
    """A multipart/form-data body as `requests` sends it (bytes), with a text-only `none` file part."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    ]
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="none"; filename="none"\r\n\r\n\r\n')
    return ("".join(parts) + f"--{BOUNDARY}--\r\n").encode()


def _image(request):
    if "application/json" in request.headers.get("accept", ""):
        return Reply.json({"image": base64.b64encode(PNG).decode(), "finish_reason": "SUCCESS", "seed": 42})
    return Reply(200, PNG, {"content-type": "image/png", "finish-reason": "SUCCESS", "seed": "42"})


ROUTES = [On("POST", r"/v2beta/stable-image/generate/(core|ultra|sd3)", _image)]
HEADERS = {
    "authorization": "Bearer sk-stability-test",
    "content-type": f"multipart/form-data; boundary={BOUNDARY}",
}


@pytest.mark.provider("stability")
def test_ultra_image_bytes(spans):
    with WireServer(ROUTES) as server:
        map_host(server, "stability")
        response = httpx.post(
            f"{server.url}/v2beta/stable-image/generate/ultra",
            headers={**HEADERS, "accept": "image/*"},
            content=_form(prompt="a lighthouse at dusk", output_format="png"),
        )
    assert response.content == PNG
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "stability"
    assert attrs["llmobserve.operation"] == "image_generation"
    assert attrs["gen_ai.request.model"] == "stable-image-ultra"
    assert attrs["llmobserve.usage.images"] == 1
    assert attrs["llmobserve.cost.usd"] == pytest.approx(8 * 0.01, abs=1e-12)  # 8 credits
    assert "sk-stability-test" not in repr(attrs)


@pytest.mark.provider("stability")
def test_sd3_model_from_form_field_json_answer(spans):
    with WireServer(ROUTES) as server:
        map_host(server, "stability")
        response = httpx.post(
            f"{server.url}/v2beta/stable-image/generate/sd3",
            headers={**HEADERS, "accept": "application/json"},
            content=_form(prompt="a lighthouse", model="sd3.5-medium"),
        )
    assert response.json()["finish_reason"] == "SUCCESS"
    attrs = spans.one_call()
    assert attrs["gen_ai.request.model"] == "sd3.5-medium"
    assert attrs["gen_ai.response.finish_reasons"] == ("SUCCESS",)
    assert attrs["llmobserve.cost.usd"] == pytest.approx(3.5 * 0.01, abs=1e-12)


@pytest.mark.provider("stability")
def test_sd3_default_model_and_core(spans):
    with WireServer(ROUTES) as server:
        map_host(server, "stability")
        httpx.post(
            f"{server.url}/v2beta/stable-image/generate/sd3", headers=HEADERS, content=_form(prompt="x")
        )
        httpx.post(
            f"{server.url}/v2beta/stable-image/generate/core", headers=HEADERS, content=_form(prompt="x")
        )
    sd3, core = (dict(s.attributes) for s in spans.provider_calls())
    assert sd3["gen_ai.request.model"] == "sd3.5-large"
    assert sd3["llmobserve.cost.usd"] == pytest.approx(6.5 * 0.01, abs=1e-12)
    assert core["llmobserve.cost.usd"] == pytest.approx(3 * 0.01, abs=1e-12)


@pytest.mark.provider("stability")
def test_content_moderation_refusal_not_billed(spans):
    refused = [
        On(
            "POST",
            r"/v2beta/stable-image/generate/core",
            lambda r: Reply.json({"name": "content_moderation", "errors": ["flagged"]}, 403),
        )
    ]
    with WireServer(refused) as server:
        map_host(server, "stability")
        response = httpx.post(
            f"{server.url}/v2beta/stable-image/generate/core", headers=HEADERS, content=_form(prompt="x")
        )
    assert response.status_code == 403 and response.json()["name"] == "content_moderation"
    attrs = spans.one_call()
    assert "llmobserve.usage.images" not in attrs and "llmobserve.cost.usd" not in attrs
    assert spans.provider_calls()[0].status.status_code.name == "ERROR"


@pytest.mark.provider("stability")
def test_sd3_httpx_files_form_as_in_stability_docs(spans):
    # The documented call shape: multipart with `files` (here an init image) and `data` fields.
    with WireServer(ROUTES) as server:
        map_host(server, "stability")
        response = httpx.post(
            f"{server.url}/v2beta/stable-image/generate/sd3",
            headers={"authorization": "Bearer sk-stability-test", "accept": "image/*"},
            files={"image": ("init.png", PNG, "image/png")},
            data={
                "prompt": "a lighthouse",
                "mode": "image-to-image",
                "strength": "0.6",
                "model": "sd3.5-large-turbo",
            },
        )
    assert response.content == PNG
    assert server.requests[0].body.count(PNG) == 1  # the upload went out once, untouched
    attrs = spans.one_call()
    assert attrs["gen_ai.request.model"] == "sd3.5-large-turbo"
    assert attrs["llmobserve.cost.usd"] == pytest.approx(4 * 0.01, abs=1e-12)  # 4 credits
