"""The compiled JSON path for the two big readers (Claude Code, Codex): msgspec decoders that build
only the fields a reader looks at and skip the rest of a line (content blocks, tool output,
instructions) without creating Python objects for it.

It is switched on per process by ``activate`` (the index does so for a run with at least
``MIN_BYTES`` to read: importing msgspec costs more than it saves on a few new lines). msgspec ships
as a wheel for every platform CPython runs on; when it cannot be imported, or
``AGENTGAUGE_LOG_DECODER=orjson`` is set, the readers keep their orjson path. That path stays the
reference: a line the typed decoder rejects for its shape (``ValidationError``: a field holding
another type than expected) is handed to it, so both give the same rows on any input. The one input
they read differently is a number outside a double's range in a part of the line neither reads
(orjson rejects the whole line; msgspec never looks at it).
"""

# No ``from __future__ import annotations``: msgspec reads the nested Struct types below from their
# annotations, which must be objects (the classes are local to ``_build``).
import os
from collections.abc import Callable, Mapping
from typing import Any

ENV = "AGENTGAUGE_LOG_DECODER"
MIN_BYTES = 8 << 20

# Set by ``activate``: the decoders, and the exceptions they raise.
claude_line: Callable[[bytes | str], Any]
codex_line: Callable[[bytes | str], Any]
# What a decoder raises for bytes that are not JSON (msgspec lets a UnicodeDecodeError through for
# invalid UTF-8 inside a field it builds), and for JSON of another shape.
DecodeError: tuple[type[Exception], ...] = (Exception,)
ValidationError: type[Exception] = Exception
_on = False


def active() -> bool:
    return _on


def activate(env: Mapping[str, str] | None = None) -> bool:
    """Decode with msgspec from now on in this process, unless ``AGENTGAUGE_LOG_DECODER`` is
    ``orjson`` or msgspec is not installed. Returns whether it is on."""
    global _on
    choice = (os.environ if env is None else env).get(ENV, "").strip().lower()
    if choice == "orjson":
        _on = False
        return False
    if not _on:
        _on = _build()
    return _on


def deactivate() -> None:
    global _on
    _on = False


def _build() -> bool:
    global claude_line, codex_line, DecodeError, ValidationError
    try:
        import msgspec
    except ImportError:  # pragma: no cover - a platform without a msgspec wheel: the orjson path
        return False

    # Every leaf is ``Any``: values arrive as the same Python objects orjson gives, so the readers'
    # checks are shared. ``gc=False``: these never hold cycles, and the collector skips them.
    class ClaudeUsage(msgspec.Struct, gc=False):
        input_tokens: Any = None
        output_tokens: Any = None
        cache_creation_input_tokens: Any = None
        cache_read_input_tokens: Any = None
        cache_creation: Any = None
        speed: Any = None

    class ClaudeMessage(msgspec.Struct, gc=False):
        id: Any = None
        model: Any = None
        usage: ClaudeUsage | None = None
        speed: Any = None

    class ClaudeLine(msgspec.Struct, gc=False):
        message: ClaudeMessage | None = None
        timestamp: Any = None
        requestId: Any = None  # Claude Code's field names
        isSidechain: Any = None
        speed: Any = None
        metadata: Any = None  # may name Vertex AI (logs.cloud)

    class CodexUsage(msgspec.Struct, gc=False):
        input_tokens: Any = None
        cached_input_tokens: Any = None
        output_tokens: Any = None
        reasoning_output_tokens: Any = None
        total_tokens: Any = None

    # Typed down to the two totals: the rest of ``info`` (rate limits, context window) is skipped
    # unbuilt. A non-object where an object is typed is a ValidationError: the reference decides.
    class CodexInfo(msgspec.Struct, gc=False):
        total_token_usage: CodexUsage | None = None
        last_token_usage: CodexUsage | None = None

    class CodexPayload(msgspec.Struct, gc=False):
        type: Any = None
        model: Any = None
        id: Any = None
        cwd: Any = None
        info: CodexInfo | None = None

    class CodexLine(msgspec.Struct, gc=False):
        timestamp: Any = None
        type: Any = None
        payload: CodexPayload | None = None

    claude_line = msgspec.json.Decoder(ClaudeLine).decode
    codex_line = msgspec.json.Decoder(CodexLine).decode
    DecodeError, ValidationError = (msgspec.DecodeError, UnicodeDecodeError), msgspec.ValidationError
    return True
