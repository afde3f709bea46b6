"""From a provider's error to an AIError: HTTP errors of the fake provider, the
classifier's rule table and its order, the attributes kept from the provider."""

from __future__ import annotations

from typing import Any

import pytest
from fake_provider import FakeProvider, error, openai_chunk
from test_providers_openai import KEY, MESSAGES, body, client, fails

import livechat_widget
from livechat_widget.providers import errors as ai_errors
from livechat_widget.providers.anthropic import AnthropicClient
from livechat_widget.providers.classify import (
    RULES,
    ErrorContext,
    ErrorInfo,
    Problem,
    _fields,
    classify,
    error_info,
    rule_for,
)
from livechat_widget.providers.demo import DemoClient
from livechat_widget.providers.env import client_from_env
from livechat_widget.providers.errors import (
    AIError,
    AuthenticationFailed,
    ContentFiltered,
    ContextTooLong,
    ModelNotFound,
    ProviderError,
    QuotaExceeded,
    RateLimited,
)
from livechat_widget.providers.events import TextDelta


@pytest.mark.parametrize(
    ("status", "payload", "cls"),
    [
        (
            429,
            {
                "error": {
                    "message": "You exceeded your current quota",
                    "type": "insufficient_quota",
                    "code": "insufficient_quota",
                }
            },
            QuotaExceeded,
        ),
        (402, {"error": {"message": "Insufficient credits"}}, QuotaExceeded),
        (
            400,
            {"error": {"message": "Bad 'temperature'", "type": "invalid_request_error"}},
            ProviderError,
        ),
        (
            401,
            {
                "error": {
                    "message": f"Incorrect API key provided: {KEY}.",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            },
            AuthenticationFailed,
        ),
        (
            403,
            {"error": {"message": "Project does not have access", "type": "permission"}},
            AuthenticationFailed,
        ),
        (
            404,
            {
                "error": {
                    "message": "The model `gpt-9` does not exist or you do not have access to it.",
                    "type": "invalid_request_error",
                    "code": "model_not_found",
                }
            },
            ModelNotFound,
        ),
        (
            404,
            {
                "object": "error",
                "message": "The model `gpt-9` does not exist.",
                "type": "NotFoundError",
                "param": None,
                "code": 404,
            },
            ModelNotFound,
        ),  # older vLLM
        (422, {"detail": [{"msg": "field required", "loc": ["body", "messages"]}]}, ProviderError),
        (
            400,
            {
                "error": {
                    "message": "The response was filtered",
                    "type": None,
                    "code": "content_filter",
                }
            },
            ContentFiltered,
        ),  # Azure
    ],
)
async def test_non_retryable_errors(
    fp: FakeProvider, status: int, payload: Any, cls: type[AIError]
) -> None:
    fp.script(error(status, payload))
    exc = await fails(client(fp, model="gpt-9"), cls)
    assert len(fp.requests) == 1
    assert exc.status_code == status
    assert KEY[10:] not in exc.user_message
    if cls is ModelNotFound:
        assert "'gpt-9'" in exc.user_message
    if cls is AuthenticationFailed:
        assert "API key" in exc.user_message or "access" in exc.user_message


async def test_unknown_endpoint_404_names_the_base_url(fp: FakeProvider) -> None:
    fp.script(error(404, "404 page not found"))
    exc = await fails(client(fp), ProviderError)
    assert "/v1" in exc.user_message and len(fp.requests) == 1


async def test_ollama_model_not_found_hint(fp: FakeProvider) -> None:
    fp.script(
        error(
            404,
            {
                "error": {
                    "message": 'model "llama3.2" not found, try pulling it first',
                    "type": "api_error",
                    "param": None,
                    "code": None,
                }
            },
        )
    )
    exc = await fails(client(fp, model="llama3.2", provider="ollama"), ModelNotFound)
    assert "ollama pull llama3.2" in exc.user_message


async def test_html_error_page_is_never_shown_raw(fp: FakeProvider) -> None:
    page = (
        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad "
        "Gateway</h1></center><hr><center>nginx</center></body></html>"
    )
    fp.script(*[error(502, page, content_type="text/html") for _ in range(3)])
    exc = await fails(client(fp), ProviderError)
    assert "html" not in exc.user_message.lower() and "nginx" not in exc.user_message
    assert "HTTP 502 Bad Gateway" in exc.user_message
    assert len(fp.requests) == 3


async def test_html_page_with_status_200(fp: FakeProvider) -> None:
    fp.script(error(200, "<!doctype html><html>Sign in</html>", content_type="text/html"))
    exc = await fails(client(fp), ProviderError)
    assert "web page" in exc.user_message and "Sign in" not in exc.user_message


def test_public_exports() -> None:
    assert livechat_widget.AIError is ai_errors.AIError is AIError
    assert livechat_widget.DemoClient is DemoClient
    assert livechat_widget.client_from_env is client_from_env
    for name in (
        "ConnectionFailed",
        "AuthenticationFailed",
        "ModelNotFound",
        "RateLimited",
        "QuotaExceeded",
        "ProviderError",
        "ContentFiltered",
        "StreamInterrupted",
    ):
        cls = getattr(ai_errors, name)
        assert issubclass(cls, AIError)
        err = cls("what happened; what to do")
        assert (err.user_message, err.partial_text) == ("what happened; what to do", "")
    assert TextDelta("a").kind == "text"


# ------------------------------------------------------------------ what an error keeps


async def test_an_error_keeps_the_providers_code_type_and_request_id(fp: FakeProvider) -> None:
    fp.script(
        error(
            400,
            {
                "error": {
                    "message": "Bad 'temperature'",
                    "type": "invalid_request_error",
                    "code": "invalid_value",
                }
            },
            headers={"x-request-id": "req_abc123"},
        )
    )
    exc = await fails(client(fp), ProviderError)
    assert (exc.status_code, exc.code, exc.type, exc.request_id) == (
        400,
        "invalid_value",
        "invalid_request_error",
        "req_abc123",
    )


async def test_a_rate_limit_not_waited_for_keeps_them_too(fp: FakeProvider) -> None:
    fp.script(
        error(
            429,
            {"error": {"message": "Slow down", "type": "requests", "code": "rate_limit_exceeded"}},
            headers={"retry-after": "3600", "x-request-id": "req_9"},
        )
    )
    exc = await fails(client(fp), RateLimited)
    assert (exc.code, exc.type, exc.request_id) == ("rate_limit_exceeded", "requests", "req_9")


async def test_anthropic_request_id_from_the_header_else_the_body(fp: FakeProvider) -> None:
    missing = {
        "type": "error",
        "error": {"type": "not_found_error", "message": "model: x"},
        "request_id": "req_body",
    }
    fp.script(error(404, missing, headers={"request-id": "req_header"}), error(404, missing))
    for expected in ("req_header", "req_body"):
        c = AnthropicClient("x", "sk-ant-key", base_url=fp.url)
        with pytest.raises(ModelNotFound) as info:
            await c.stream(MESSAGES).collect()
        await c.aclose()
        assert (info.value.type, info.value.code, info.value.request_id) == (
            "not_found_error",
            None,
            expected,
        )


async def test_an_in_stream_error_keeps_its_code_and_type(fp: FakeProvider) -> None:
    fp.script(
        body(
            openai_chunk("Par"),
            {"error": {"message": "Upstream crashed", "type": "server_error", "code": 400}},
        )
    )
    exc = await fails(client(fp), ProviderError)
    assert (exc.code, exc.type, exc.request_id) == ("400", "server_error", None)


def test_error_info_reads_every_body_shape() -> None:
    assert error_info({"error": {"message": "m", "type": "t", "code": 4}}) == ErrorInfo(
        "m", "t", "4"
    )
    assert error_info(
        {
            "type": "error",
            "error": {"type": "overloaded_error", "message": "Overloaded"},
            "request_id": "req_1",
        }
    ) == ErrorInfo("Overloaded", "overloaded_error", "", "req_1")
    assert error_info({"error": "model not found"}) == ErrorInfo("model not found", "", "")
    assert error_info({"detail": [{"msg": "a"}, {"msg": "b"}]}).message == "a; b"
    assert error_info(None) == ErrorInfo("", "", "")


# ------------------------------------------------------------------ the rule table

CTX = ErrorContext(
    who="OpenAI",
    model="gpt-x",
    netloc="api.example.org",
    base_url="https://api.example.org/v1",
    endpoint="https://api.example.org/v1/chat/completions",
)


def problem(
    status: int | None, message: str = "", etype: str = "", code: str = "", **kw: Any
) -> Problem:
    return Problem(status, ErrorInfo(message, etype, code), message, **kw)


@pytest.mark.parametrize(
    ("p", "rule", "cls"),
    [
        # out of credit beats a rate limit (and is never retried) and a generic 4xx
        (
            problem(
                429, "You exceeded your current quota", "insufficient_quota", "insufficient_quota"
            ),
            "out of credit",
            QuotaExceeded,
        ),
        (problem(402, "Payment required"), "out of credit", QuotaExceeded),
        (problem(400, "Your credit balance is too low"), "out of credit", QuotaExceeded),
        # an error page beats whatever its status says
        (problem(429, html=True), "error page", ProviderError),
        (
            problem(400, "The response was filtered", code="content_filter"),
            "content filter",
            ContentFiltered,
        ),
        (problem(401, "Incorrect API key"), "bad key", AuthenticationFailed),
        (problem(400, "bad", code="invalid_api_key"), "bad key", AuthenticationFailed),
        (problem(403, "no"), "no permission", AuthenticationFailed),
        # a 404 naming a model is a missing model, any other 404 a wrong URL
        (problem(404, "The model `gpt-x` does not exist"), "unknown model", ModelNotFound),
        (problem(404, "404 page not found"), "wrong URL", ProviderError),
        (problem(400, "nope", code="model_not_found"), "unknown model", ModelNotFound),
        (problem(429, "Slow down"), "rate limit", RateLimited),
        (problem(529, "Overloaded"), "overloaded", ProviderError),
        (problem(400, "too big", "exceed_context_size_error"), "context too long", ContextTooLong),
        (
            problem(400, "This model's maximum context length is 8192"),
            "context too long",
            ContextTooLong,
        ),
        (problem(400, "prompt is too long: 210000 tokens"), "context too long", ContextTooLong),
        (problem(None, "boom", in_stream=True), "error in the stream", ProviderError),
        (problem(502, "Bad gateway"), "server error", ProviderError),
        (problem(422, "field required"), "rejected", ProviderError),
    ],
)
def test_the_first_rule_that_applies_decides(p: Problem, rule: str, cls: type[AIError]) -> None:
    assert rule_for(p).name == rule
    error = classify(p, CTX)
    assert type(error) is cls and rule_for(p).error is cls
    assert error.status_code == p.status


def test_the_table_ends_with_a_rule_for_everything_and_every_template_formats() -> None:
    assert RULES[-1].applies(problem(None))
    assert len({r.name for r in RULES}) == len(RULES)
    fields = _fields(problem(418, retry_after=3.0), CTX)
    for rule in RULES:
        assert rule.template.format(**fields)
