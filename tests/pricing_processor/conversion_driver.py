"""A rotel trace processor that unit-tests the pricing processor's conversion on real rotel objects.

Rotel's Python types exist only inside the rotel process (the `rotel-sdk` wheel holds type stubs),
so this driver runs there: for each span it runs the processor's functions on the span's real
attribute list and on KeyValues built with rotel's constructors, and appends the outcomes as one
JSON line to $LLMOBSERVE_TEST_OUT. The test reads that file.
"""

from __future__ import annotations

import importlib.util
import json
import os

spec = importlib.util.spec_from_file_location("llmobserve_pricing", os.environ["LLMOBSERVE_TEST_PROCESSOR"])
assert spec is not None and spec.loader is not None
processor = importlib.util.module_from_spec(spec)
spec.loader.exec_module(processor)

from rotel_sdk.open_telemetry.common.v1 import AnyValue, KeyValue  # noqa: E402


def _typed(key_values):
    """[(key, python type name, value)] for scalar values; type names show what rotel holds."""
    out = []
    for kv in key_values:
        value = kv.value.value if kv.value is not None else None
        out.append(
            [kv.key, type(value).__name__, value if isinstance(value, (str, bool, int, float)) else None]
        )
    return out


def _raise(*args, **kwargs):
    raise ValueError("pricing exploded")


def process_spans(resource_spans):
    results = []
    for scope_spans in resource_spans.scope_spans:
        for span in scope_spans.spans:
            attributes = span.attributes
            result = {"name": span.name, "start": span.start_time_unix_nano}
            result["priceable"] = processor.is_priceable(kv.key for kv in attributes)
            result["dict"] = processor.attributes_dict(attributes)
            built = [
                KeyValue.new_string_value("s", "x"),
                KeyValue.new_int_value("i", 2**40),
                KeyValue.new_double_value("d", 0.5),
                KeyValue.new_bool_value("b", False),
                KeyValue.new_bytes_value("raw", b"\x00"),
                KeyValue("any", AnyValue(7)),
            ]
            result["built_dict"] = processor.attributes_dict(built)
            if span.name == "set":
                processor.set_attributes(
                    attributes,
                    {"llmobserve.cost.status": "priced", "llmobserve.cost.usd": 0.25, "n": 3, "f": True},
                )
                result["after_set"] = _typed(span.attributes)
            elif span.name == "error":
                real = processor.cost_attributes
                processor.cost_attributes = _raise
                try:
                    processor.price_span(span)
                finally:
                    processor.cost_attributes = real
                result["after_error"] = _typed(span.attributes)
            elif span.name == "raises":
                real = processor.set_attributes
                processor.set_attributes = _raise
                try:
                    result["process_spans_returned"] = repr(processor.process_spans(resource_spans))
                finally:
                    processor.set_attributes = real
            results.append(result)
    with open(os.environ["LLMOBSERVE_TEST_OUT"], "a", encoding="utf-8") as out:
        for result in results:
            out.write(json.dumps(result) + "\n")
