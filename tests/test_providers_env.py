"""client_from_env: the client the environment asks for; providers.env needs no httpx."""

from __future__ import annotations

import subprocess
import sys

import pytest

from livechat_widget.providers.anthropic import AnthropicClient
from livechat_widget.providers.demo import DemoClient
from livechat_widget.providers.env import client_from_env
from livechat_widget.providers.openai import OpenAICompatibleClient


def test_nothing_configured_is_the_demo() -> None:
    assert isinstance(client_from_env({}), DemoClient)
    assert isinstance(client_from_env({"LIVECHAT_MODEL": "x"}), DemoClient)
    assert isinstance(
        client_from_env({"LIVECHAT_PROVIDER": "demo", "OPENAI_API_KEY": "sk-x"}), DemoClient
    )


def test_openai_from_conventional_variables() -> None:
    c = client_from_env({"OPENAI_API_KEY": "sk-openai-key-123"})
    assert isinstance(c, OpenAICompatibleClient)
    assert (c.provider, c.base_url, c.model) == (
        "openai",
        "https://api.openai.com/v1",
        "gpt-4o-mini",
    )
    assert c._api_key == "sk-openai-key-123"
    assert c.describe() == "gpt-4o-mini via api.openai.com"
    assert "sk-openai-key-123" not in repr(c)
    c = client_from_env(
        {
            "OPENAI_API_KEY": "k",
            "OPENAI_BASE_URL": "https://openrouter.ai/api/v1",
            "LIVECHAT_MODEL": "deepseek/deepseek-r1",
        }
    )
    assert (c.provider, c.base_url, c.model) == (
        "openrouter",
        "https://openrouter.ai/api/v1",
        "deepseek/deepseek-r1",
    )


def test_livechat_variables_take_precedence() -> None:
    c = client_from_env(
        {
            "LIVECHAT_PROVIDER": "OpenAI",
            "LIVECHAT_BASE_URL": "http://box:8000/v1",
            "LIVECHAT_MODEL": "qwen",
            "LIVECHAT_API_KEY": "mine",
            "OPENAI_API_KEY": "other",
            "OPENAI_BASE_URL": "http://x/v1",
        }
    )
    assert isinstance(c, OpenAICompatibleClient)
    assert (c.base_url, c.model, c._api_key) == ("http://box:8000/v1", "qwen", "mine")
    assert c.describe() == "qwen via box:8000"
    c = client_from_env({"LIVECHAT_BASE_URL": "http://localhost:8080/v1"})
    assert isinstance(c, OpenAICompatibleClient) and c._api_key is None


def test_anthropic() -> None:
    c = client_from_env({"ANTHROPIC_API_KEY": "sk-ant-xyz"})
    assert isinstance(c, AnthropicClient)
    assert (c.provider, c.model, c._api_key) == ("anthropic", "claude-haiku-4-5", "sk-ant-xyz")
    assert "sk-ant-xyz" not in repr(c)
    c = client_from_env(
        {
            "LIVECHAT_PROVIDER": "anthropic",
            "LIVECHAT_MODEL": "claude-opus-4-1",
            "LIVECHAT_API_KEY": "k2",
            "ANTHROPIC_API_KEY": "k1",
        }
    )
    assert (c.model, c._api_key) == ("claude-opus-4-1", "k2")


@pytest.mark.parametrize(
    ("host", "url"),
    [
        (None, "http://localhost:11434/v1"),
        ("0.0.0.0:11434", "http://localhost:11434/v1"),
        ("gpu-box", "http://gpu-box:11434/v1"),
        ("https://ollama.example.org:443", "https://ollama.example.org:443/v1"),
    ],
)
def test_ollama(host: str | None, url: str) -> None:
    env = {"LIVECHAT_PROVIDER": "ollama"}
    if host:
        env["OLLAMA_HOST"] = host
    c = client_from_env(env)
    assert isinstance(c, OpenAICompatibleClient)
    assert (c.provider, c.base_url, c.model) == ("ollama", url, "llama3.2")


def test_unknown_provider_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="LIVECHAT_PROVIDER='gemini'"):
        client_from_env({"LIVECHAT_PROVIDER": "gemini"})


def test_keyword_arguments_reach_the_client() -> None:
    c = client_from_env({"OPENAI_API_KEY": "k"}, read_timeout=300.0, max_retries=5)
    assert isinstance(c, OpenAICompatibleClient)
    assert (c.read_timeout, c.max_retries) == (300.0, 5)


def test_env_and_the_command_need_no_httpx() -> None:
    code = (
        "import sys; sys.modules['httpx'] = None\n"
        "import livechat_widget.providers.env as env\n"
        "from livechat_widget.app import PROVIDERS\n"
        "assert PROVIDERS is env.PROVIDERS\n"
        "print(type(env.client_from_env({})).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "DemoClient"  # the demo needs no httpx either
