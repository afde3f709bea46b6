"""The HTTP clients provider tests talk to the fake provider with: quick retries."""

from __future__ import annotations

from typing import Any

from fake_provider import FakeProvider

from livechat_widget.providers.anthropic import AnthropicClient
from livechat_widget.providers.config import RetryPolicy
from livechat_widget.providers.openai import OpenAICompatibleClient


def openai(fp: FakeProvider, **kw: Any) -> OpenAICompatibleClient:
    retry = RetryPolicy(max_retries=kw.pop("max_retries", 2), backoff_base=0.01)
    return OpenAICompatibleClient(fp.base_url, "fake-model", "sk-test", retry=retry, **kw)


def anthropic(fp: FakeProvider, **kw: Any) -> AnthropicClient:
    retry = RetryPolicy(max_retries=kw.pop("max_retries", 2), backoff_base=0.01)
    return AnthropicClient("claude-fake", "sk-ant-test", base_url=fp.url, retry=retry, **kw)
