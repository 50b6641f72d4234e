"""A client for an OpenAI-compatible chat-completions endpoint (`AMV_LLM_URL`, `AMV_LLM_MODEL`,
`AMV_LLM_API_KEY`): `POST {url}/chat/completions`, one answer back.

The model is outside our control, so every way it can fail — refused connection, timeout, an error
status, a body that is not the documented shape, an empty answer — is one `LlmError`, and the caller
(graph/ask.py) falls back to an answer it can build itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

#: The answer is short: a few sentences with citations.
MAX_TOKENS = 600


class LlmError(RuntimeError):
    """The language model gave no usable answer (why is in the message)."""


@dataclass(frozen=True)
class LlmConfig:
    url: str  # the API root, e.g. http://127.0.0.1:8080/v1 (without /chat/completions)
    model: str
    api_key: str = ""
    timeout: float = 20.0

    @property
    def endpoint(self) -> str:
        return self.url.rstrip("/") + "/chat/completions"


def complete(config: LlmConfig, messages: list[dict[str, str]], client: httpx.Client | None = None) -> str:
    """The model's answer to a conversation (deterministic settings), or LlmError."""
    headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
    body = {"model": config.model, "messages": messages, "temperature": 0, "max_tokens": MAX_TOKENS}
    try:
        if client is None:
            with httpx.Client(timeout=config.timeout) as own:
                response = own.post(config.endpoint, json=body, headers=headers)
        else:
            response = client.post(config.endpoint, json=body, headers=headers, timeout=config.timeout)
    except httpx.TimeoutException as error:
        raise LlmError(f"no answer within {config.timeout:g} s") from error
    except httpx.HTTPError as error:
        raise LlmError(f"could not reach the language model: {error}") from error
    if response.status_code != 200:
        raise LlmError(f"the language model answered HTTP {response.status_code}")
    try:
        data: Any = response.json()
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise LlmError("the language model's answer is not a chat completion") from error
    if not isinstance(content, str) or not content.strip():
        raise LlmError("the language model's answer is empty")
    return content.strip()
