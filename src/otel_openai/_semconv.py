"""Every attribute, metric and event name we emit, pinned to one semantic-conventions version.

Names are spelled out here rather than imported from ``opentelemetry-semantic-conventions`` because the
incubating GenAI module moves between releases; a rename upstream is a one-line change here.
"""

from __future__ import annotations

from typing import Final

# The GenAI conventions moved to the semantic-conventions-genai repository, which has cut no release: its
# manifest (model/manifest.yaml) names this development schema URL, the only one that describes what our
# spans, events and opt-in metrics follow (fetch_response, retrieval, usage splits, agent/tool metrics).
SCHEMA_URL: Final = "https://opentelemetry.io/schemas/gen-ai-dev/1.42.0-dev"
# The default metric names are those of semantic conventions v1.41.1; the meter says so in that mode.
LEGACY_METRICS_SCHEMA_URL: Final = "https://opentelemetry.io/schemas/1.41.1"

# Operations and providers.
OPERATION_NAME: Final = "gen_ai.operation.name"
PROVIDER_NAME: Final = "gen_ai.provider.name"
OP_CHAT: Final = "chat"
OP_TEXT_COMPLETION: Final = "text_completion"
OP_EMBEDDINGS: Final = "embeddings"
OP_EXECUTE_TOOL: Final = "execute_tool"
OP_INVOKE_AGENT: Final = "invoke_agent"
OP_GENERATE_CONTENT: Final = "generate_content"
OP_FETCH_RESPONSE: Final = "fetch_response"
OP_RETRIEVAL: Final = "retrieval"
PROVIDER_OPENAI: Final = "openai"
PROVIDER_AZURE: Final = "azure.ai.openai"

# Request.
REQUEST_MODEL: Final = "gen_ai.request.model"
REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
REQUEST_TOP_P: Final = "gen_ai.request.top_p"
REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
REQUEST_SEED: Final = "gen_ai.request.seed"
REQUEST_CHOICE_COUNT: Final = "gen_ai.request.choice.count"
REQUEST_STREAM: Final = "gen_ai.request.stream"
REQUEST_REASONING_LEVEL: Final = "gen_ai.request.reasoning.level"
REQUEST_PREVIOUS_RESPONSE_ID: Final = "gen_ai.request.previous_response.id"
REQUEST_ENCODING_FORMATS: Final = "gen_ai.request.encoding_formats"
EMBEDDINGS_DIMENSION_COUNT: Final = "gen_ai.embeddings.dimension.count"
CONVERSATION_ID: Final = "gen_ai.conversation.id"
# GET /responses/{id}?starting_after=N: where a resumed stream picks up.
REQUEST_STREAM_CURSOR: Final = "gen_ai.request.stream_cursor"
OUTPUT_TYPE: Final = "gen_ai.output.type"

# Response.
RESPONSE_ID: Final = "gen_ai.response.id"
RESPONSE_MODEL: Final = "gen_ai.response.model"
RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
# A finish reason for a position where none arrived (cut stream, failed or cancelled generation).
FINISH_REASON_ERROR: Final = "error"
RESPONSE_STATUS: Final = "gen_ai.response.status"
RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
USAGE_CACHE_WRITE_INPUT_TOKENS: Final = "gen_ai.usage.cache_write.input_tokens"
# Per-modality splits: subsets of the totals above.
USAGE_TEXT_INPUT_TOKENS: Final = "gen_ai.usage.text.input_tokens"
USAGE_IMAGE_INPUT_TOKENS: Final = "gen_ai.usage.image.input_tokens"
USAGE_AUDIO_INPUT_TOKENS: Final = "gen_ai.usage.audio.input_tokens"
USAGE_TEXT_OUTPUT_TOKENS: Final = "gen_ai.usage.text.output_tokens"
USAGE_IMAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.image.output_tokens"
USAGE_AUDIO_OUTPUT_TOKENS: Final = "gen_ai.usage.audio.output_tokens"
USAGE_TEXT_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.text.cache_read.input_tokens"
USAGE_IMAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.image.cache_read.input_tokens"
USAGE_AUDIO_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.audio.cache_read.input_tokens"

# OpenAI refinements.
OPENAI_REQUEST_SERVICE_TIER: Final = "openai.request.service_tier"
OPENAI_RESPONSE_SERVICE_TIER: Final = "openai.response.service_tier"
OPENAI_RESPONSE_SYSTEM_FINGERPRINT: Final = "openai.response.system_fingerprint"
OPENAI_API_TYPE: Final = "openai.api.type"
API_TYPE_CHAT: Final = "chat_completions"
API_TYPE_RESPONSES: Final = "responses"

# Content (opt-in).
INPUT_MESSAGES: Final = "gen_ai.input.messages"
OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
TOOL_DEFINITIONS: Final = "gen_ai.tool.definitions"

# Retrieval (vector store search).
DATA_SOURCE_ID: Final = "gen_ai.data_source.id"
RETRIEVAL_TOP_K: Final = "gen_ai.retrieval.top_k"
RETRIEVAL_QUERY_TEXT: Final = "gen_ai.retrieval.query.text"
RETRIEVAL_DOCUMENTS: Final = "gen_ai.retrieval.documents"

# Tools and agents.
TOOL_NAME: Final = "gen_ai.tool.name"
TOOL_TYPE: Final = "gen_ai.tool.type"
TOOL_CALL_ID: Final = "gen_ai.tool.call.id"
TOOL_DESCRIPTION: Final = "gen_ai.tool.description"
TOOL_CALL_ARGUMENTS: Final = "gen_ai.tool.call.arguments"
TOOL_CALL_RESULT: Final = "gen_ai.tool.call.result"
AGENT_NAME: Final = "gen_ai.agent.name"
AGENT_ID: Final = "gen_ai.agent.id"
AGENT_DESCRIPTION: Final = "gen_ai.agent.description"

# General.
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
ERROR_TYPE: Final = "error.type"
ERROR_TYPE_OTHER: Final = "_OTHER"
EXCEPTION_TYPE: Final = "exception.type"
EXCEPTION_MESSAGE: Final = "exception.message"
EXCEPTION_STACKTRACE: Final = "exception.stacktrace"
TOKEN_TYPE: Final = "gen_ai.token.type"
TOKEN_TYPE_INPUT: Final = "input"
TOKEN_TYPE_OUTPUT: Final = "output"
TOKEN_MODALITY: Final = "gen_ai.token.modality"
MODALITY_TEXT: Final = "text"
MODALITY_IMAGE: Final = "image"
MODALITY_AUDIO: Final = "audio"
MODALITY_UNKNOWN: Final = "unknown"

# Metrics.
METRIC_OPERATION_DURATION: Final = "gen_ai.client.operation.duration"
METRIC_TOKEN_USAGE: Final = "gen_ai.client.token.usage"
METRIC_TIME_TO_FIRST_CHUNK: Final = "gen_ai.client.operation.time_to_first_chunk"
METRIC_TIME_PER_OUTPUT_CHUNK: Final = "gen_ai.client.operation.time_per_output_chunk"
# Agent and tool durations (both metric modes).
METRIC_INVOKE_AGENT_DURATION: Final = "gen_ai.invoke_agent.duration"
METRIC_EXECUTE_TOOL_DURATION: Final = "gen_ai.execute_tool.duration"
# OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental: the newest names and shapes. Inference operations
# move to gen_ai.client.inference.*, embeddings to gen_ai.client.embeddings.*; every other operation
# (fetch_response, retrieval) stays on gen_ai.client.operation.duration.
METRIC_INFERENCE_DURATION: Final = "gen_ai.client.inference.duration"
METRIC_INFERENCE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.client.inference.time_to_first_chunk"
METRIC_INFERENCE_TIME_PER_OUTPUT_CHUNK: Final = "gen_ai.client.inference.time_per_output_chunk"
METRIC_USAGE_INPUT_TOKENS: Final = "gen_ai.client.inference.usage.input_tokens"
METRIC_USAGE_OUTPUT_TOKENS: Final = "gen_ai.client.inference.usage.output_tokens"
METRIC_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.client.inference.usage.cache_read.input_tokens"
METRIC_USAGE_CACHE_WRITE_INPUT_TOKENS: Final = "gen_ai.client.inference.usage.cache_write.input_tokens"
METRIC_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.client.inference.usage.reasoning.output_tokens"
METRIC_OPERATION_INPUT_TOKENS: Final = "gen_ai.client.inference.operation.input_tokens"
METRIC_OPERATION_OUTPUT_TOKENS: Final = "gen_ai.client.inference.operation.output_tokens"
METRIC_EMBEDDINGS_DURATION: Final = "gen_ai.client.embeddings.duration"
METRIC_EMBEDDINGS_INPUT_TOKENS: Final = "gen_ai.client.embeddings.operation.input_tokens"
# The OTEL_SEMCONV_STABILITY_OPT_IN entry that selects them.
OPT_IN_GEN_AI_LATEST: Final = "gen_ai_latest_experimental"

# Events (log records).
EVENT_OPERATION_DETAILS: Final = "gen_ai.client.inference.operation.details"
EVENT_OPERATION_EXCEPTION: Final = "gen_ai.client.operation.exception"
# Not a semantic convention: the opt-in per-chunk span event, named in our own namespace on purpose.
EVENT_STREAM_CHUNK: Final = "openai.stream.chunk"

# Metric attributes: anything else is dropped before a point is recorded.
METRIC_ATTRIBUTE_ALLOW_LIST: Final = frozenset(
    {
        OPERATION_NAME,
        PROVIDER_NAME,
        REQUEST_MODEL,
        RESPONSE_MODEL,
        SERVER_ADDRESS,
        SERVER_PORT,
        ERROR_TYPE,
        TOKEN_TYPE,
        OPENAI_RESPONSE_SERVICE_TIER,
        OPENAI_RESPONSE_SYSTEM_FINGERPRINT,
    }
)

# Tool and agent spans for user code (see the _agents package).
TOOL_TYPE_FUNCTION: Final = "function"
# Not an attribute: the OpenTelemetry context key under which trace_agent leaves the agent's name, so model
# spans started inside the agent carry gen_ai.agent.name.
CONTEXT_AGENT_NAME: Final = "otel_openai.agent_name"

# gen_ai.output.type values.
OUTPUT_TYPE_TEXT: Final = "text"
OUTPUT_TYPE_JSON: Final = "json"
OUTPUT_TYPE_IMAGE: Final = "image"
OUTPUT_TYPE_SPEECH: Final = "speech"

# Azure OpenAI: the REST API version the client sends as ``api-version``. Semantic conventions define no
# name for it (v1.41.1); this follows the ``azure.*`` namespace they use for Azure-specific attributes.
AZURE_OPENAI_API_VERSION: Final = "azure.openai.api_version"

# OpenAI Agents SDK (see _agents_sdk.py).
OP_INVOKE_WORKFLOW: Final = "invoke_workflow"
WORKFLOW_NAME: Final = "gen_ai.workflow.name"
TOOL_TYPE_EXTENSION: Final = "extension"
MCP_METHOD_NAME: Final = "mcp.method.name"
MCP_METHOD_TOOLS_CALL: Final = "tools/call"
EVENT_GUARDRAIL_RESULT: Final = "gen_ai.guardrail.result"
GUARDRAIL_COMPONENT_NAME: Final = "gen_ai.guardrail.component.name"
GUARDRAIL_RESULT_TYPE: Final = "gen_ai.guardrail.result.type"
GUARDRAIL_RESULT_VALUE: Final = "gen_ai.guardrail.result.value"
GUARDRAIL_RESULT_TRIPWIRE: Final = "tripwire_triggered"
# No convention exists for a handoff: a span event in the SDK's own namespace, named after its span fields.
EVENT_HANDOFF: Final = "openai_agents.handoff"
HANDOFF_FROM_AGENT: Final = "openai_agents.handoff.from_agent"
HANDOFF_TO_AGENT: Final = "openai_agents.handoff.to_agent"
# Not attributes: OpenTelemetry context keys. The agent span's shared state (model calls made inside it report
# their tool calls there), and the SDK tool span a trace_tool function inside it must not duplicate.
CONTEXT_AGENT_RUN: Final = "otel_openai.agent_run"
CONTEXT_SDK_TOOL: Final = "otel_openai.sdk_tool"

# WebSocket APIs (realtime sessions, Responses over WebSocket). The realtime names follow the conventions'
# realtime document (Development status) and its reference implementation (semantic-conventions-genai #394).
OP_REALTIME_INFERENCE: Final = "realtime_inference"
OP_USER_SPEECH: Final = "user_speech"
REALTIME_SESSION_ID: Final = "gen_ai.realtime_session.id"
NETWORK_PROTOCOL_NAME: Final = "network.protocol.name"
NETWORK_PROTOCOL_WEBSOCKET: Final = "websocket"
EVENT_REALTIME_SESSION_STARTED: Final = "gen_ai.client.realtime_session.started"
EVENT_REALTIME_SESSION_ENDED: Final = "gen_ai.client.realtime_session.ended"
# error.type of a generation still open when its WebSocket was closed or garbage-collected (no exception).
ERROR_TYPE_WEBSOCKET_CLOSED: Final = "websocket_closed"
