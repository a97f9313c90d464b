"""Reading real servers' error bodies: mode rejections are matched narrowly (a 5xx that
merely mentions "tools" is retried), context overflows and rejected parameters are
recognised, whatever server sent them."""

from __future__ import annotations

import pytest

from annotator.extract.llm.server_errors import server_error

LLAMA_CPP_PYTHON_JSON_SCHEMA = (
    "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
    "'msg': \"Input should be 'text' or 'json_object'\"}]"
)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (500, LLAMA_CPP_PYTHON_JSON_SCHEMA),
        (400, "registry.ollama.ai/library/gemma:2b does not support tools"),
        (
            400,
            '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser '
            "to be set",
        ),
        (500, "tools param requires --jinja flag"),
        (
            400,
            "Invalid schema for function 'Extraction': In context=(), 'additionalProperties' "
            "is required to be supplied and to be false.",
        ),
        (400, "'response_format' of type 'json_schema' is not supported with this model."),
    ],
)
def test_real_mode_rejections_are_recognised_and_not_retried(status: int, message: str) -> None:
    error = server_error(status, {"error": {"message": message}})
    assert error.rejects_mode and not error.transient


@pytest.mark.parametrize(
    "message",
    [
        "internal error while running tools",
        "CUDA out of memory while processing the request with tools",
        "upstream timeout (tool_choice)",
    ],
)
def test_a_5xx_that_only_mentions_tools_is_retried(message: str) -> None:
    error = server_error(500, {"error": {"message": message, "type": "server_error"}})
    assert not error.rejects_mode and error.transient


@pytest.mark.parametrize(
    ("status", "body", "size"),
    [
        (
            400,
            {
                "object": "error",
                "message": "This model's maximum context length is 8192 tokens. However, you "
                "requested 9000 tokens (4904 in the messages, 4096 in the completion). Please "
                "reduce the length of the messages or completion.",
                "type": "BadRequestError",
                "code": 400,
            },
            8192,
        ),
        (
            400,
            {
                "error": {
                    "message": "This model's maximum context length is 128000 tokens. However, "
                    "your messages resulted in 204308 tokens. Please reduce the length of the "
                    "messages.",
                    "type": "invalid_request_error",
                    "code": "context_length_exceeded",
                }
            },
            128000,
        ),
        (
            400,
            {
                "error": {
                    "code": 400,
                    "message": "the request exceeds the available context size, try increasing it",
                    "type": "exceed_context_size_error",
                    "n_prompt_tokens": 9000,
                    "n_ctx": 8192,
                }
            },
            8192,
        ),
    ],
)
def test_context_overflows_of_vllm_openai_and_llama_cpp(
    status: int, body: dict[str, object], size: int
) -> None:
    error = server_error(status, body)
    assert error.context_overflow and not error.transient and not error.rejects_mode
    assert error.context_tokens == size


def test_rejected_parameters_name_the_parameter() -> None:
    tokens = server_error(
        400,
        {
            "error": {
                "message": "Unsupported parameter: 'max_tokens' is not supported with this "
                "model. Use 'max_completion_tokens' instead.",
                "type": "invalid_request_error",
                "param": "max_tokens",
                "code": "unsupported_parameter",
            }
        },
    )
    assert tokens.rejected_parameter == ("max_tokens", "parameter")
    # a proxy that keeps only the message still names it
    bare = server_error(
        400,
        {
            "error": {
                "message": "Unsupported value: 'temperature' does not support 0 with this "
                "model. Only the default (1) value is supported.",
                "code": "invalid_request_body",
            }
        },
    )
    assert bare.rejected_parameter == ("temperature", "value")
    assert server_error(400, {"error": {"message": "bad request"}}).rejected_parameter is None


def test_newer_llama_cpp_overflow_message_and_openai_strict_refusal() -> None:
    newer = server_error(
        400,
        {
            "error": {
                "code": 400,
                "message": "request (8708 tokens) exceeds the available context size "
                "(8192 tokens), try increasing it",
                "type": "exceed_context_size_error",
                "n_prompt_tokens": 8708,
                "n_ctx": 8192,
            }
        },
    )
    assert newer.context_overflow and newer.context_tokens == 8192
    strict = server_error(
        400,
        {
            "error": {
                "message": "Invalid schema for function 'Extraction': In context=(), "
                "'additionalProperties' is required to be supplied and to be false.",
                "type": "invalid_request_error",
                "param": "tools[0].function.parameters",
                "code": "invalid_function_parameters",
            }
        },
    )
    assert strict.rejects_mode and strict.rejected_parameter is None
