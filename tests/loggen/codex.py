"""Codex CLI: ``.codex/sessions/YYYY/MM/DD/rollout-<time>-<uuid>.jsonl`` (+ a few ``archived_sessions`` copies).

Traps written, and why the ground truth is still exact:
- ``token_count`` rows carry the thread's cumulative ``total_token_usage`` and the request's
  ``last_token_usage``; an entry is a row whose cumulative total advances, its tokens the advance;
- re-emits (the same info again, a fresh timestamp), exact duplicate lines and rate-limit-only rows
  (``info: null``) never advance the total;
- forks and sub-agents (``source.subagent.thread_spawn``, or none for plain forks): the child file
  starts with its own session_meta, then replays the parent's history up to the fork, every line
  stamped with the child's creation time (seconds after the parent's row), then continues the
  parent's counter. A replayed total is the parent's entry, counted once at the parent's time;
- forks of forks (the spawn marker then only in the copied parent meta), archived copies;
- torn rows (an advancing row cut mid-write: the next readable row of the thread carries its
  tokens) and unterminated last lines. Rows that a child replays are never torn, so every total
  has one unambiguous first readable row. Every cumulative total is unique across the tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .base import AgentWriter, LogFile, base62, dumps, iso, uuid4, weighted

MODELS = (("gpt-5-codex", 50), ("gpt-5", 25), ("gpt-5.1-codex", 25))
VERSIONS = (("0.46.0", 20), ("0.57.0", 40), ("0.63.0", 40))
REPOS = ("api", "web", "core", "billing", "search", "infra", "worker", "cli", "atlas")
Total = tuple[int, int, int, int, int]  # input (with cached), cached, output (with reasoning), reasoning, total
_STAMP = len('{"timestamp":"')
_ISO = len("2025-11-30T12:34:56.789Z")


@dataclass(slots=True)
class Event:
    total: Total
    model: str
    ctx: int  # the context this request sent (a fork continues from it)
    copies: list[tuple[int, int]] = field(default_factory=list)  # (line index, ms): the row, duplicates, re-emits


@dataclass(slots=True)
class Thread:
    tid: str
    created: int
    cwd: str
    version: str
    model: str
    base: Total
    ms: int
    ctx: int
    log: LogFile = field(default_factory=LogFile)
    events: list[Event] = field(default_factory=list)  # this thread's own (not replayed) advancing rows
    used_pct: float = 0.0


def _usage(t: Total) -> dict[str, int]:
    return {
        "input_tokens": t[0],
        "cached_input_tokens": t[1],
        "output_tokens": t[2],
        "reasoning_output_tokens": t[3],
        "total_tokens": t[4],
    }


class CodexWriter(AgentWriter):
    name = "codex"
    share = 1
    token_fields = ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens")
    usage_marker = '"token_count"'

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.home = self.opts.out / ".codex"
        for key in (
            "token_count_lines",
            "reemitted_events",
            "replayed_events",
            "duplicate_lines",
            "absorbed_events",
            "rate_limit_only_lines",
            "forks",
            "spawned_forks",
            "nested_forks",
            "archived_copies",
            "corrupted_files",
        ):
            self.counts[key] = 0
        self.seen: set[Total] = set()

    def derived(self, cell: dict[str, int]) -> dict[str, int]:
        return {
            "total_tokens": cell["input_tokens"] + cell["output_tokens"],
            "non_cached_input_tokens": cell["input_tokens"] - cell["cached_input_tokens"],
        }

    def write_one(self) -> None:
        r = self.rng
        created = r.randrange(self.start_ms, self.end_ms - 2 * 3_600_000)
        t = Thread(
            tid=uuid4(r),
            created=created,
            cwd=f"/home/dev/src/{r.choice(REPOS)}",
            version=weighted(r, VERSIONS),
            model=weighted(r, MODELS),
            base=(0, 0, 0, 0, 0),
            ms=created,
            ctx=r.randint(4_000, 12_000),
        )
        self._meta(t, "cli" if r.random() < 0.8 else r.choice(("vscode", "exec")))
        self._family(t, depth=0)

    # -- a thread, then the forks that replay it -------------------------------------------------------

    def _family(self, t: Thread, depth: int) -> None:
        r = self.rng
        self._grow(t)
        forks: list[tuple[Event, int]] = []  # (the last replayed event, index of its row)
        if t.events and depth < 2 and r.random() < (0.12 if depth == 0 else 0.1):
            for _ in range(r.randint(1, 2)):
                event = r.choice(t.events)
                forks.append((event, event.copies[0][0]))
        protected = max((i for _, i in forks), default=-1)  # lines a child replays stay intact
        candidates = [e for e in t.events if e.copies[0][0] > protected]
        if candidates and r.random() < 0.04:
            self.counts["corrupted_files"] += 1
            for e in r.sample(candidates, min(len(candidates), r.randint(1, 2))):
                t.log.tear(e.copies[0][0], r)
        last = len(t.log.lines) - 1
        if last > protected and last not in t.log.torn and r.random() < 0.03:
            t.log.truncate_tail(r)
        path = self.home / "sessions" / iso(t.created)[:10].replace("-", "/") / self._file_name(t)
        self.emit(path, t.log)
        self._count(t)
        if r.random() < 0.03:
            self.counts["archived_copies"] += 1
            self.emit(self.home / "archived_sessions" / path.name, t.log)
        for event, row in forks:
            child = self._fork(t, event, row, depth)
            if child is not None:
                self._family(child, depth + 1)

    def _file_name(self, t: Thread) -> str:
        return f"rollout-{iso(t.created)[:19].replace(':', '-')}-{t.tid}.jsonl"

    def _count(self, t: Thread) -> None:
        """Each own total with a readable row is an entry: its advance over the previous readable total
        of the thread (or the fork's baseline), at the time of its first readable row."""
        prev, lost = t.base, 0
        for e in t.events:
            readable = [ms for i, ms in e.copies if t.log.intact(i)]
            if not readable:
                lost += 1
                continue
            self.counts["absorbed_events"] += lost  # their tokens ride on this row's advance
            lost = 0
            delta = [a - b for a, b in zip(e.total, prev, strict=True)]
            self.tally.add(readable[0], e.model, delta[:4])
            prev = e.total

    def _fork(self, parent: Thread, event: Event, row: int, depth: int) -> Thread | None:
        r = self.rng
        created = max(ms for _, ms in event.copies) + r.randint(5_000, 900_000)
        if created > self.end_ms - 3_600_000:
            return None
        spawn = r.random() < 0.5
        child = Thread(
            tid=uuid4(r),
            created=created,
            cwd=parent.cwd,
            version=parent.version,
            model=event.model,
            base=event.total,
            ms=created,
            ctx=event.ctx,
            used_pct=parent.used_pct,
        )
        source: Any = (
            {"subagent": {"thread_spawn": {"parent_thread_id": parent.tid, "depth": depth + 1}}} if spawn else "cli"
        )
        self._meta(child, source)
        stamp = iso(created)
        for line in parent.log.lines[: row + 1]:  # the parent's history, restamped with the child's creation time
            child.log.add(line[:_STAMP] + stamp + line[_STAMP + _ISO :])
            if '"total_token_usage"' in line:
                self.counts["replayed_events"] += 1
        self.counts["forks"] += 1
        self.counts["spawned_forks"] += spawn
        self.counts["nested_forks"] += depth > 0
        return child

    # -- lines -----------------------------------------------------------------------------------------

    def _line(self, t: Thread, kind: str, payload: dict[str, Any], ms: int | None = None) -> int:
        return t.log.add(dumps({"timestamp": iso(t.ms if ms is None else ms), "type": kind, "payload": payload}))

    def _meta(self, t: Thread, source: Any) -> None:
        r = self.rng
        payload: dict[str, Any] = {
            "id": t.tid,
            "timestamp": iso(t.created),
            "cwd": t.cwd,
            "originator": "codex_cli_rs",
            "cli_version": t.version,
            "instructions": None,
            "source": source,
            "model_provider": "openai",
            "git": {
                "commit_hash": f"{r.getrandbits(160):040x}",
                "branch": "main",
                "repository_url": f"git@github.com:dev/{t.cwd.rsplit('/', 1)[-1]}.git",
            },
        }
        if t.version >= "0.5" and r.random() < 0.6:
            payload["base_instructions"] = {"text": self.text.take(r.randint(4_000, 14_000))}
        self._line(t, "session_meta", payload)

    def _grow(self, t: Thread) -> None:
        r = self.rng
        for _ in range(r.randint(1, 8)):
            t.ms += r.randint(30_000, 1_200_000)
            if t.ms > self.end_ms - 900_000:
                return
            if r.random() < 0.06:
                t.model = weighted(r, MODELS)  # /model mid-session: the next turn_context names it
            self._line(
                t,
                "turn_context",
                {
                    "cwd": t.cwd,
                    "approval_policy": "on-request",
                    "sandbox_policy": {"mode": "workspace-write", "network_access": False},
                    "model": t.model,
                    "effort": r.choice(("low", "medium", "high")),
                    "summary": "auto",
                },
            )
            prompt = self.text.take(r.randint(20, 800))
            self._line(
                t,
                "response_item",
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": prompt}]},
            )
            self._line(t, "event_msg", {"type": "user_message", "message": prompt, "images": []})
            t.ctx += len(prompt) // 4
            steps = r.randint(1, 10)
            for step in range(steps):
                t.ms += r.randint(2_000, 60_000)
                if t.ms > self.end_ms - 300_000:
                    return
                self._step(t, final=step == steps - 1)

    def _step(self, t: Thread, final: bool) -> None:
        r = self.rng
        summary = self.text.take(r.randint(40, 400))
        self._line(
            t,
            "response_item",
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": summary}],
                "content": None,
                "encrypted_content": "gAAAAA" + self.text.blob(r.randint(300, 3000)),
            },
        )
        if r.random() < 0.5:
            self._line(t, "event_msg", {"type": "agent_reasoning", "text": summary})
        if final:
            text = self.text.take(r.randint(50, 2_000))
            self._line(
                t,
                "response_item",
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]},
            )
            self._line(t, "event_msg", {"type": "agent_message", "message": text})
        else:
            call_id = "call_" + base62(r, 24)
            command = self.text.take(r.randint(10, 120))
            self._line(
                t,
                "response_item",
                {
                    "type": "function_call",
                    "name": "shell",
                    "call_id": call_id,
                    "arguments": dumps({"command": ["bash", "-lc", command]}),
                },
            )
            body = self.text.take(int(r.paretovariate(1.5) * 500))
            self._line(
                t,
                "response_item",
                {
                    "type": "function_call_output",
                    "call_id": call_id,
                    "output": dumps({"output": body, "metadata": {"exit_code": 0, "duration_seconds": 0.2}}),
                },
            )
            t.ctx += len(body) // 4
        self._token_count(t)

    def _token_count(self, t: Thread) -> None:
        r = self.rng
        prev = t.events[-1].total if t.events else t.base
        inp = t.ctx
        # Most of the context is a cache hit (in 64-token steps); now and then the cache is cold.
        cached = max(0, (inp - r.randint(200, 3_000)) // 64 * 64) if r.random() < 0.9 else 0
        out = int(r.paretovariate(1.5) * 150) + r.randint(5, 80)
        reasoning = r.randint(0, out)
        total: Total = (prev[0] + inp, prev[1] + cached, prev[2] + out, prev[3] + reasoning, prev[4] + inp + out)
        while total in self.seen:  # every cumulative total names one request, tree-wide
            out += 1
            total = (total[0], total[1], total[2] + 1, total[3], total[4] + 1)
        self.seen.add(total)
        last: Total = (inp, cached, out, reasoning, inp + out)
        t.used_pct = min(100.0, t.used_pct + r.random() * 0.8)
        payload = {
            "type": "token_count",
            "info": {
                "total_token_usage": _usage(total),
                "last_token_usage": _usage(last),
                "model_context_window": 272_000,
            },
            "rate_limits": self._limits(t),
        }
        event = Event(total=total, model=t.model, ctx=t.ctx)
        event.copies.append((self._line(t, "event_msg", payload), t.ms))
        self.counts["token_count_lines"] += 1
        if r.random() < 0.02:  # the same line written twice
            event.copies.append((t.log.add(t.log.lines[-1]), t.ms))
            self.counts["duplicate_lines"] += 1
            self.counts["token_count_lines"] += 1
        if r.random() < 0.4:  # UI/rate-limit refreshes repeat the last info with a fresh timestamp
            for _ in range(r.randint(1, 2)):
                t.ms += r.randint(200, 5_000)
                event.copies.append((self._line(t, "event_msg", payload), t.ms))
                self.counts["reemitted_events"] += 1
                self.counts["token_count_lines"] += 1
        if r.random() < 0.05:
            t.ms += r.randint(200, 3_000)
            self._line(t, "event_msg", {"type": "token_count", "info": None, "rate_limits": self._limits(t)})
            self.counts["rate_limit_only_lines"] += 1
            self.counts["token_count_lines"] += 1
        t.events.append(event)
        t.ctx += out
        if t.ctx > r.randint(200_000, 260_000):
            t.ctx = r.randint(15_000, 30_000)  # compaction

    def _limits(self, t: Thread) -> dict[str, Any]:
        window = t.ms // 1000 // 18_000 * 18_000
        return {
            "primary": {"used_percent": round(t.used_pct, 1), "window_minutes": 300, "resets_at": window + 18_000},
            "secondary": {
                "used_percent": round(t.used_pct / 4, 1),
                "window_minutes": 10_080,
                "resets_at": t.ms // 1000 // 604_800 * 604_800 + 604_800,
            },
        }
