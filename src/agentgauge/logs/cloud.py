"""Claude Code calls that went through Google Vertex AI or Amazon Bedrock rather than Anthropic's API.

The model id usually says so (Vertex: ``claude-opus-4-5@20251101``; Bedrock:
``us.anthropic.claude-sonnet-4-5-20250929-v1:0`` or an inference-profile ARN). When it does not, the
line still can: the API message id (Vertex ``msg_vrtx_...``, Bedrock ``msg_bdrk_...``) or a
``metadata`` object naming Vertex/GCP (``metadata.provider: "vertexai"``, as CodexBar detects it).
The Claude reader then prefixes the model (``vertexai/``, ``bedrock/``) so pricing and reports can
tell the route from the model alone.
"""

from __future__ import annotations

from typing import Any

VERTEX = "vertexai/"
BEDROCK = "bedrock/"


MESSAGE_IDS = ("msg_vrtx_", "msg_bdrk_")


def prefix(meta: Any, message_id: Any, model: str) -> str:
    """``VERTEX``, ``BEDROCK`` or '' for one Claude Code log line, from the line's ``metadata`` and
    the API message id; '' when the model id already names the cloud (``@``, ``anthropic.``)."""
    if "@" in model or "anthropic." in model:
        return ""
    if type(message_id) is str and message_id.startswith(MESSAGE_IDS):
        return VERTEX if message_id.startswith("msg_vrtx_") else BEDROCK
    if type(meta) is dict:
        for key, value in meta.items():
            words = f"{key} {value if type(value) is str else ''}".lower()
            if "vertex" in words or "gcp" in words:
                return VERTEX
            if "bedrock" in words:
                return BEDROCK
    return ""
