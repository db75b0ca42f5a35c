"""Claude Code's line shapes and the state of a session being written (used by ``claude.py``).

Field order follows Claude Code's own lines; every line is compact JSON on one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .base import LogFile, dumps, iso

MODELS = (
    ("claude-sonnet-4-5-20250929", 50),
    ("claude-opus-4-5-20251101", 22),
    ("claude-sonnet-4-20250514", 14),
    ("claude-opus-4-1-20250805", 14),
)
SMALL_MODEL = "claude-haiku-4-5-20251001"  # Claude Code sends some side calls to the small model
VERSIONS = (("1.0.88", 15), ("2.0.8", 20), ("2.0.31", 35), ("2.0.50", 30))
TOOLS = ("Read", "Bash", "Edit", "Grep", "Glob", "Write", "TodoWrite")
_PROJECT_TEXT = "api web core billing search infra mobile docs gateway worker cli auth ledger atlas orbit"
PROJECT_WORDS = _PROJECT_TEXT.split()


@dataclass(slots=True)
class Call:
    mid: str
    ms: int
    model: str
    values: tuple[int, int, int, int]  # input, output, cache write, cache read
    lines: list[int]  # where it was first written (indices in that session's file)
    message: dict[str, Any] | None = None  # kept while its session may be replayed by /btw
    counted: bool = False


@dataclass(slots=True)
class Session:
    sid: str
    project: str
    cwd: str
    version: str
    branch: str
    model: str
    ms: int  # the clock: time of the latest line
    log: LogFile = field(default_factory=LogFile)
    calls: list[Call] = field(default_factory=list)  # calls first written in this file
    parent_uuid: str | None = None
    ctx: int = 0  # context tokens the next call sends
    compact_at: int = 200_000  # auto-compaction threshold; some sessions run past 200k (long-context price)
    cached_until: int = 0  # the prompt cache expires this long after the last call


def envelope(s: Session, sidechain: bool, agent_id: str | None) -> dict[str, Any]:
    env: dict[str, Any] = {"parentUuid": s.parent_uuid, "isSidechain": sidechain, "userType": "external"}
    env.update(cwd=s.cwd, sessionId=s.sid, version=s.version, gitBranch=s.branch)
    if agent_id is not None:
        env["agentId"] = agent_id
    return env


def user_line(s: Session, uid: str, text: str, sidechain: bool, agent_id: str | None) -> str:
    d = envelope(s, sidechain, agent_id)
    d.update(type="user", message={"role": "user", "content": text}, uuid=uid, timestamp=iso(s.ms))
    return dumps(d)


def usage(version: str, inp: int, out: int, cache_write: int, cache_read: int, one_hour: int) -> dict[str, Any]:
    u: dict[str, Any] = {"input_tokens": inp, "cache_creation_input_tokens": cache_write}
    u["cache_read_input_tokens"] = cache_read
    if version >= "2":  # 2.x splits cache writes by TTL
        u["cache_creation"] = {
            "ephemeral_5m_input_tokens": cache_write - one_hour,
            "ephemeral_1h_input_tokens": one_hour,
        }
    u["output_tokens"] = out
    u["service_tier"] = "standard"
    return u


def message(mid: str, model: str, block: dict[str, Any], stop: str | None, use: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": mid,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [block],
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": use,
    }


def assistant_line(
    s: Session, msg: dict[str, Any], rid: str, uid: str, ms: int, sidechain: bool, agent_id: str | None
) -> str:
    d = envelope(s, sidechain, agent_id)
    d.update(message=msg, requestId=rid, type="assistant", uuid=uid, timestamp=iso(ms))
    return dumps(d)


def tool_result_line(
    s: Session, uid: str, tool_use_id: str, tool: str, body: str, sidechain: bool, agent_id: str | None
) -> str:
    d = envelope(s, sidechain, agent_id)
    content = [{"tool_use_id": tool_use_id, "type": "tool_result", "content": body}]
    result: dict[str, Any] = (
        {"stdout": body, "stderr": "", "interrupted": False, "isImage": False}
        if tool == "Bash"
        else {
            "type": "text",
            "file": {"filePath": s.cwd + "/src/main.py", "content": body, "numLines": body.count("\n")},
        }
    )
    d.update(type="user", message={"role": "user", "content": content}, uuid=uid, timestamp=iso(s.ms))
    d["toolUseResult"] = result
    return dumps(d)


def synthetic_line(s: Session, mid: str, uid: str, text: str, sidechain: bool, agent_id: str | None) -> str:
    """An API error or usage-limit notice: model ``<synthetic>``, zero usage, no requestId."""
    zero = {
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "server_tool_use": {"web_search_requests": 0},
        "service_tier": None,
    }
    msg = {
        "id": mid,
        "container": None,
        "model": "<synthetic>",
        "role": "assistant",
        "stop_reason": "stop_sequence",
        "stop_sequence": "",
        "type": "message",
        "usage": zero,
        "content": [{"type": "text", "text": text}],
    }
    d = envelope(s, sidechain, agent_id)
    d.update(message=msg, type="assistant", uuid=uid, timestamp=iso(s.ms), isApiErrorMessage=True)
    return dumps(d)


def compact_line(s: Session, uid: str) -> str:
    return dumps(
        {
            "type": "system",
            "subtype": "compact_boundary",
            "content": "Conversation compacted",
            "isMeta": False,
            "timestamp": iso(s.ms),
            "uuid": uid,
            "level": "info",
            "sessionId": s.sid,
        }
    )


def snapshot_line(s: Session, mid: str) -> str:
    return dumps(
        {
            "type": "file-history-snapshot",
            "messageId": mid,
            "snapshot": {"trackedFileBackups": {}, "timestamp": iso(s.ms)},
            "isSnapshotUpdate": False,
        }
    )


def summary_line(text: str, leaf: str) -> str:
    return dumps({"type": "summary", "summary": text, "leafUuid": leaf})
