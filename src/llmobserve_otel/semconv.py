"""Attribute names: the pinned llmobserve contract plus the GenAI semantic conventions we read and write.

One constant per line, grouped by concern. The names marked pinned in DESIGN.md are a public
contract (dashboards, the collector, outside checks); change them only with a migration note.
"""

from __future__ import annotations

# --- llmobserve: cost (pinned) ---
COST_USD = "llmobserve.cost.usd"
COST_SOURCE = "llmobserve.cost.source"
# --- llmobserve: cost diagnostics ---
COST_STATUS = "llmobserve.cost.status"
COST_REASON = "llmobserve.cost.reason"

# --- llmobserve: provider call (pinned) ---
PROVIDER = "llmobserve.provider"
OPERATION = "llmobserve.operation"
USAGE_PREFIX = "llmobserve.usage."
# --- llmobserve: capture diagnostics ---
USAGE_INCOMPLETE = "llmobserve.usage.incomplete"
USAGE_STATUS = "llmobserve.usage.status"
CAPTURE = "llmobserve.capture"
# Audio tokens have no semconv attribute yet; they are priced apart from text tokens.
USAGE_INPUT_AUDIO_TOKENS = "llmobserve.usage.input_audio_tokens"
USAGE_OUTPUT_AUDIO_TOKENS = "llmobserve.usage.output_audio_tokens"
USAGE_CACHE_AUDIO_READ_TOKENS = "llmobserve.usage.cache_audio_read_tokens"  # the audio part of cache reads

# --- llmobserve: attribution (pinned) ---
CUSTOMER_ID = "llmobserve.customer.id"
SECTION_PATH = "llmobserve.section.path"
SECTION_NAME = "llmobserve.section.name"
SECTION_KIND = "llmobserve.section.kind"

# --- baggage keys (pinned) ---
BAGGAGE_CUSTOMER_ID = CUSTOMER_ID
BAGGAGE_SECTION_PATH = SECTION_PATH

# --- cost sources (pinned values of COST_SOURCE) ---
SOURCE_SDK = "sdk"
SOURCE_COLLECTOR = "collector"
SOURCE_PROXY = "proxy"
SOURCE_CALLER = "caller"

# --- cost status values ---
STATUS_PRICED = "priced"
STATUS_UNKNOWN_MODEL = "unknown_model"
STATUS_NO_USAGE = "no_usage"
STATUS_DUPLICATE = "duplicate"
STATUS_ERROR = "error"

# --- GenAI semantic conventions ---
GEN_AI_PROVIDER_NAME = "gen_ai.provider.name"
GEN_AI_SYSTEM = "gen_ai.system"  # older spelling, still written by many instrumentations
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
GEN_AI_REQUEST_MODEL = "gen_ai.request.model"
GEN_AI_RESPONSE_MODEL = "gen_ai.response.model"
GEN_AI_RESPONSE_ID = "gen_ai.response.id"
GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
GEN_AI_REQUEST_STREAM = "gen_ai.request.stream"
GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens"
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens"
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens"
# Spellings seen in the wild for the same quantities (read, never written).
GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS = "gen_ai.usage.cache_write.input_tokens"  # anthropic SDK
GEN_AI_USAGE_PROMPT_TOKENS = "gen_ai.usage.prompt_tokens"  # pre-1.27 semconv
GEN_AI_USAGE_COMPLETION_TOKENS = "gen_ai.usage.completion_tokens"  # pre-1.27 semconv
TOKEN_COUNT_ATTRIBUTES = (
    GEN_AI_USAGE_INPUT_TOKENS,
    GEN_AI_USAGE_PROMPT_TOKENS,
    GEN_AI_USAGE_OUTPUT_TOKENS,
    GEN_AI_USAGE_COMPLETION_TOKENS,
)
"""Attributes whose presence makes a span a priceable LLM call (input or output tokens, any spelling)."""
GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages"

# --- HTTP semantic conventions (on provider-call spans, which replace the HTTP client span) ---
HTTP_REQUEST_METHOD = "http.request.method"
HTTP_RESPONSE_STATUS_CODE = "http.response.status_code"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
URL_FULL = "url.full"
ERROR_TYPE = "error.type"
