"""Is this endpoint a model API at all? Base-URL checks, reading reply bodies, and the fixes to suggest.

A misconfigured `--base-url` (no scheme, a web page, a server without the API's route) must end in one
line that says what answered and what to change, never in a raw SDK or JSON exception, and never after a
long series of retries that cannot help.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from glia.llm.types import InvalidBaseURL, MalformedReply

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_SNIPPET_CHARS = 60


def validate_base_url(base_url: str, model: str) -> str:
    """The URL unchanged if it can be requested; `InvalidBaseURL` with the corrected form otherwise."""
    text = base_url.strip()
    parts = urlsplit(text)
    if parts.scheme in ("http", "https") and parts.netloc:
        return text
    if parts.scheme in ("http", "https"):
        problem, guess = "has no host", "http://localhost:8000/v1"
    else:
        rest = text.split("://", 1)[-1].lstrip("/")
        problem, guess = "has no http:// or https:// scheme", f"http://{rest or 'localhost:8000/v1'}"
    raise InvalidBaseURL(
        f"{model}: base URL {text!r} {problem}",
        f"write the whole URL, e.g. --base-url {guess}",
    )


def looks_like_html(text: str, content_type: str = "") -> bool:
    head = text.lstrip()[:200].lower()
    return "html" in content_type.lower() or head.startswith(("<!doctype", "<html", "<head", "<body"))


def describe_body(text: str, content_type: str = "") -> str:
    """What a body is, in a few words: 'an HTML page titled ...', 'a non-JSON body ...', 'JSON with keys ...'."""
    stripped = text.strip()
    if not stripped:
        return "an empty body"
    if looks_like_html(stripped, content_type):
        title = _TITLE.search(stripped)
        name = " ".join(title.group(1).split()) if title else ""
        return f"an HTML page titled {name[:_SNIPPET_CHARS]!r}" if name else "an HTML page"
    try:
        value = json.loads(stripped)
    except ValueError:
        return f"a non-JSON body starting {_snippet(stripped)!r}"
    return describe_json(value)


def describe_json(value: Any) -> str:
    if not isinstance(value, dict):
        return f"JSON {type(value).__name__} {_snippet(json.dumps(value))!r} instead of an object"
    error = value.get("error")
    if isinstance(error, dict) and error.get("message"):
        return f"an error object: {_snippet(str(error['message']), 160)!r}"
    text = json.dumps(value)
    if len(text) <= _SNIPPET_CHARS:
        return f"JSON {text}"
    keys = ", ".join(sorted(map(str, value))[:8]) or "none"
    return f"a JSON object with keys {keys}"


def decode_reply(
    *,
    status: int,
    content_type: str,
    text: str,
    url: str,
    model: str,
    required: str,
    what: str,
    fix: str,
    non_empty: bool = False,
) -> dict[str, Any]:
    """The reply as a dict; `MalformedReply` unless it is a JSON object holding a list `required`.

    `what` names the expected reply ("a chat completion"); `fix` is what the user should change;
    `non_empty` also refuses an empty list (a chat completion without any choice).
    """
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    field = data.get(required) if isinstance(data, dict) else None
    if isinstance(field, list) and (field or not non_empty):
        return data  # type: ignore[return-value]
    if data is None:
        described = describe_body(text, content_type)
    elif isinstance(field, list):
        described = f"JSON with an empty `{required}` list"
    elif isinstance(data, dict) and not (
        isinstance(data.get("error"), dict) and data["error"].get("message")
    ):
        keys = ", ".join(sorted(map(str, data))[:8]) or "none"
        described = f"JSON without `{required}` (keys: {keys})"
    else:
        described = describe_json(data)
    raise MalformedReply(f"{model}: {url} answered HTTP {status} with {described}, not {what}", fix)


def _snippet(text: str, limit: int = _SNIPPET_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# -- what to tell the user ----------------------------------------------------------------------------


def malformed_fix(custom_base_url: bool) -> str:
    if custom_base_url:
        return (
            "point --base-url at the server's OpenAI-compatible API root (usually ending in /v1, e.g. "
            "http://localhost:8000/v1), not at a web page or another service"
        )
    return "a proxy or firewall seems to answer instead of the provider; check HTTPS_PROXY and *_BASE_URL variables"


def unsupported_fix(custom_base_url: bool, path: str) -> str:
    if path.rstrip("/").endswith("/responses"):
        return (
            "this server has no Responses API; use `--openai-api chat` (Chat Completions, which vLLM, Ollama "
            "and llama.cpp all serve)"
        )
    if custom_base_url:
        return (
            f"the server does not serve {path or 'this route'}; use an OpenAI-compatible server (vLLM, Ollama, "
            "llama.cpp) and give its API root, usually ending in /v1"
        )
    return "the provider does not serve this route; check the model name and *_BASE_URL variables"


def unreachable_fix(custom_base_url: bool) -> str:
    if custom_base_url:
        return "start the model server, or correct --base-url (host, port, and the /v1 root)"
    return (
        "check the network connection and proxy settings (HTTPS_PROXY); the provider's API must be reachable"
    )
