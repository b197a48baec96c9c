"""Replicate predictions through the real `replicate` SDK against a local server answering the
documented prediction JSON (https://replicate.com/docs/reference/http#predictions.get).

Prices:
- black-forest-labs/flux-schnell, an official model: $3 per thousand output images
  (https://replicate.com/black-forest-labs/flux-schnell), from `metrics.image_count`.
- Per second of prediction time (`metrics.predict_time`) at the price of the model's hardware
  (https://replicate.com/pricing): Nvidia L40S `gpu-l40s` $0.000975/sec. The prediction JSON does
  not name the hardware, so the owner of a model declares it in LLMOBSERVE_PRICING_FILE.
"""

from __future__ import annotations

import itertools

import pytest
import replicate
from wire import On, Reply, WireServer, map_host

L40S_PER_SECOND = 0.000975


def _prediction(status: str, model: str, metrics: dict | None = None, output=None) -> dict:
    return {
        "id": "pred-123",
        "model": model,
        "version": "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa",
        "input": {"prompt": "a lighthouse"},
        "logs": "",
        "output": output,
        "error": None,
        "status": status,
        "created_at": "2026-11-26T10:00:00.000Z",
        "urls": {
            "get": "https://api.replicate.com/v1/predictions/pred-123",
            "cancel": "https://api.replicate.com/v1/predictions/pred-123/cancel",
        },
        **({"metrics": metrics} if metrics is not None else {}),
    }


def _client(server: WireServer) -> replicate.Client:
    map_host(server, "replicate")
    client = replicate.Client(api_token="r8_test_secret", base_url=server.url)
    client.poll_interval = 0.01
    return client


@pytest.mark.provider("replicate")
def test_official_model_priced_per_output_image(spans):
    done = _prediction(
        "succeeded",
        "black-forest-labs/flux-schnell",
        {"image_count": 2, "predict_time": 0.61},
        ["https://replicate.delivery/a.webp", "https://replicate.delivery/b.webp"],
    )
    route = On(
        "POST", "/v1/models/black-forest-labs/flux-schnell/predictions", lambda r: Reply.json(done, 201)
    )
    with WireServer([route]) as server:
        client = _client(server)
        output = client.run(
            "black-forest-labs/flux-schnell",
            input={"prompt": "a lighthouse", "num_outputs": 2},
            use_file_output=False,
        )
        assert server.requests[-1].headers["prefer"] == "wait"
    assert output == ["https://replicate.delivery/a.webp", "https://replicate.delivery/b.webp"]
    attrs = spans.one_call()
    assert attrs["llmobserve.provider"] == "replicate"
    assert attrs["llmobserve.operation"] == "prediction"
    assert attrs["gen_ai.request.model"] == "black-forest-labs/flux-schnell"
    assert attrs["llmobserve.usage.images"] == 2
    assert attrs["llmobserve.usage.seconds"] == 0.61
    # 2 images * $3 / 1,000
    assert attrs["llmobserve.cost.usd"] == pytest.approx(2 * 3 / 1000, abs=1e-12)
    assert "r8_test_secret" not in repr(attrs)


@pytest.fixture
def l40s_model(user_prices):
    """The app owner's price file: their model runs on an Nvidia L40S."""
    user_prices(
        "[[prices]]\n"
        'provider = "replicate"\n'
        'model = "acme/upscaler"\n'
        'source = "https://replicate.com/pricing"\n'
        'note = "gpu-l40s"\n'
        f'rates = {{ seconds = "{L40S_PER_SECOND}" }}\n'
    )


@pytest.mark.provider("replicate")
def test_polled_prediction_priced_per_second_once(spans, l40s_model):
    polls = itertools.chain(
        [_prediction("processing", "acme/upscaler")],
        itertools.repeat(
            _prediction(
                "succeeded", "acme/upscaler", {"predict_time": 4.2}, "https://replicate.delivery/x.png"
            )
        ),
    )
    routes = [
        On("POST", "/v1/predictions", lambda r: Reply.json(_prediction("starting", "acme/upscaler"), 201)),
        On("GET", "/v1/predictions/pred-123", lambda r: Reply.json(next(polls))),
    ]
    with WireServer(routes) as server:
        client = _client(server)
        prediction = client.predictions.create(
            version="5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa", input={"image": "x"}
        )
        prediction.wait()
    assert prediction.status == "succeeded"
    calls = [dict(s.attributes or {}) for s in spans.provider_calls()]
    assert [c["llmobserve.operation"] for c in calls] == [
        "prediction",
        "prediction_status",
        "prediction_status",
    ]
    assert [c.get("llmobserve.cost.usd") for c in calls[:2]] == [None, None]
    assert calls[0]["llmobserve.cost.status"] == calls[1]["llmobserve.cost.status"] == "no_usage"
    final = calls[2]
    assert final["gen_ai.response.model"] == "acme/upscaler"
    assert final["gen_ai.response.finish_reasons"] == ("succeeded",)
    assert final["llmobserve.usage.seconds"] == 4.2
    # 4.2 s * $0.000975 per second (Nvidia L40S)
    assert final["llmobserve.cost.usd"] == pytest.approx(4.2 * L40S_PER_SECOND, abs=1e-12)
