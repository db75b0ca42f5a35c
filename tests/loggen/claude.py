"""Claude Code: ``.claude/projects/<project>/<session>.jsonl`` and ``<session>/subagents/agent-<id>.jsonl``.

Traps written, and why the ground truth is still exact:
- one line per content block (thinking, text, tool_use), each repeating message.id, requestId and the
  same usage bytes: a call is counted once, at its first line's time;
- resumed sessions start with their parent's intact lines copied verbatim (same ids, times, usage);
- Task sub-agents: ``subagents/agent-*.jsonl`` (isSidechain, their own calls: counted) and, in 1.0.x
  sessions, sidechain calls inline in the session file;
- ``/btw`` side questions: a sub-agent file replays counted parent calls with the same message.id, a
  new requestId and a later time (never counted again; the parent copy is the one kept);
- ``<synthetic>`` API-error and usage-limit lines (zero usage, no requestId: never an entry);
- torn lines: a call's first line cut mid-write (its other block lines, if any, still count it) and
  files whose last line is unterminated. A call is an entry only if one copy of it is intact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import claude_lines as lines
from .base import DAY_MS, AgentWriter, base62, uuid4, weighted
from .claude_lines import MODELS, PROJECT_WORDS, SMALL_MODEL, TOOLS, VERSIONS, Call, Session

CACHE_TTL_MS = 5 * 60_000
COUNTS = (
    "usage_lines",
    "duplicate_lines",
    "synthetic_lines",
    "resumed_sessions",
    "sidechain_files",
    "sidechain_calls",
    "btw_replays",
    "inline_sidechain_calls",
    "corrupted_files",
)


class ClaudeWriter(AgentWriter):
    name = "claude"
    share = 3
    token_fields = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    usage_marker = '"usage":{'

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.root = self.opts.out / ".claude" / "projects"
        self.counts.update(dict.fromkeys(COUNTS, 0))
        self.projects: list[tuple[str, str]] = []
        self.mids: set[str] = set()

    def derived(self, cell: dict[str, int]) -> dict[str, int]:
        return {"total_tokens": sum(cell[f] for f in self.token_fields)}

    # -- one conversation: a session, its sub-agents, its resumes ------------------------------------

    def write_one(self) -> None:
        project, cwd = self._project()
        start = self.rng.randrange(self.start_ms, self.end_ms - 3_600_000)
        s = self._new_session(project, cwd, start)
        self._converse(s)
        self._finish(s, self.root / project / f"{s.sid}.jsonl")
        if s.version >= "2" and self.rng.random() < 0.12:
            for _ in range(self.rng.randint(1, 2)):
                self._subagent(s)
        depth = 0
        while depth < 3 and self.rng.random() < 0.17 and s.ms < self.end_ms - 2 * 3_600_000:
            child = self._new_session(project, cwd, s.ms + self.rng.randint(60_000, 3_600_000), resume=s)
            self._converse(child)
            self._finish(child, self.root / project / f"{child.sid}.jsonl")
            s, depth = child, depth + 1

    def _project(self) -> tuple[str, str]:
        if not self.projects or (len(self.projects) < 40 and self.rng.random() < 0.08):
            name = "-".join(self.rng.sample(PROJECT_WORDS, 2))
            if self.rng.random() < 0.3:
                name += ".v2"  # Claude Code maps "." to "-" in the folder name as well
            cwd = f"/home/dev/work/{name}-{len(self.projects)}"
            self.projects.append((cwd.replace("/", "-").replace(".", "-"), cwd))
        return self.rng.choice(self.projects)

    def _new_session(self, project: str, cwd: str, ms: int, resume: Session | None = None) -> Session:
        r = self.rng
        version = resume.version if resume else weighted(r, VERSIONS)
        s = Session(
            sid=uuid4(r),
            project=project,
            cwd=cwd,
            version=version,
            branch=r.choice(("main", "main", "dev", "fix/cache")),
            model=weighted(r, MODELS),
            ms=ms,
            ctx=r.randint(12_000, 26_000),
            compact_at=r.randint(150_000, 260_000),
        )
        if resume is not None:
            self.counts["resumed_sessions"] += 1
            summary = self.text.take(60).strip()
            s.log.add(lines.summary_line(summary, uuid4(r)))
            for i, line in enumerate(resume.log.lines):  # the parent's readable history, verbatim
                if resume.log.intact(i):
                    s.log.add(line)
                    if self.usage_marker in line:
                        self.counts["usage_lines"] += 1
                        self.counts["duplicate_lines"] += 1
            s.ctx, s.model, s.compact_at = resume.ctx, resume.model, resume.compact_at
        return s

    def _converse(self, s: Session) -> None:
        r = self.rng
        for _ in range(r.randint(1, 6)):
            s.ms += r.randint(20_000, 1_800_000)
            if s.ms > self.end_ms - 600_000:
                return
            if r.random() < 0.05:
                s.model = weighted(r, MODELS)  # /model mid-session
            s.parent_uuid = self._user(s, self.text.take(r.randint(30, 600)))
            self._agentic_run(s, r.randint(1, 12), sidechain=False)
            if r.random() < 0.1:
                s.log.add(lines.snapshot_line(s, uuid4(r)))

    def _agentic_run(
        self, s: Session, steps: int, *, sidechain: bool, agent_id: str | None = None, model: str | None = None
    ) -> None:
        r = self.rng
        for step in range(steps):
            s.ms += r.randint(1_500, 45_000)
            if s.ms > self.end_ms - 60_000:
                return
            if not sidechain and r.random() < 0.1:
                self._call(s, SMALL_MODEL, sidechain=False, agent_id=None, tool=False, small=True)
            if r.random() < 0.01:
                self._synthetic(s, sidechain, agent_id)
                continue
            tool = step < steps - 1
            tool_name = self._call(s, model or s.model, sidechain=sidechain, agent_id=agent_id, tool=tool)
            if tool_name:
                self._tool_result(s, tool_name, sidechain, agent_id)
            if (
                not sidechain
                and tool_name == "Bash"
                and s.version < "2"
                and r.random() < 0.2
                and s.ms < self.end_ms - 3_600_000
            ):
                # Claude Code 1.0.x wrote Task sub-agent calls inline, flagged isSidechain.
                before = len(s.calls)
                self._agentic_run(s, r.randint(2, 5), sidechain=True, model=SMALL_MODEL)
                self.counts["inline_sidechain_calls"] += len(s.calls) - before

    # -- lines ---------------------------------------------------------------------------------------

    def _user(self, s: Session, text: str, sidechain: bool = False, agent_id: str | None = None) -> str:
        uid = uuid4(self.rng)
        s.log.add(lines.user_line(s, uid, text, sidechain, agent_id))
        s.ctx += len(text) // 4
        return uid

    def _usage(self, s: Session, small: bool) -> tuple[dict[str, Any], tuple[int, int, int, int]]:
        r = self.rng
        out = r.randint(5, 400) if small else int(r.paretovariate(1.6) * 120) + r.randint(1, 60)
        if small:
            inp, cw, cr = r.randint(150, 3_000), 0, 0
        else:
            inp = r.randint(1, 12) if r.random() < 0.9 else r.randint(100, 4_000)
            if s.ms > s.cached_until:  # the prompt cache expired: the whole context is written again
                cw, cr = s.ctx, 0
            else:
                cw = r.randint(200, 6_000)
                cr = max(0, s.ctx - cw)
            s.cached_until = s.ms + CACHE_TTL_MS
            s.ctx += out + r.randint(50, 800)
            if s.ctx > s.compact_at:
                s.ctx = r.randint(20_000, 40_000)
                s.log.add(lines.compact_line(s, uuid4(r)))
        one_hour = cw if s.version >= "2" and r.random() < 0.15 else 0
        return lines.usage(s.version, inp, out, cw, cr, one_hour), (inp, out, cw, cr)

    def _new_mid(self) -> str:
        while (mid := "msg_01" + base62(self.rng, 22)) in self.mids:
            pass
        self.mids.add(mid)
        return mid

    def _call(
        self, s: Session, model: str, *, sidechain: bool, agent_id: str | None, tool: bool, small: bool = False
    ) -> str | None:
        """One API call: one line per content block, all with the same ids and usage."""
        r = self.rng
        if (s.ms % DAY_MS) > DAY_MS - 2_000:
            s.ms += 2_500  # a call's block lines stay on one UTC day
        use, values = self._usage(s, small)
        blocks: list[dict[str, Any]] = []
        if not small and r.random() < 0.55:
            thinking = self.text.take(r.randint(100, 3_000))
            blocks.append({"type": "thinking", "thinking": thinking, "signature": self.text.blob(r.randint(200, 600))})
        if small or not tool or r.random() < 0.6:
            blocks.append({"type": "text", "text": self.text.take(r.randint(20, 1_500))})
        tool_name = None
        if tool:
            tool_name = r.choice(TOOLS)
            tool_id = "toolu_01" + base62(r, 22)
            command = self.text.take(r.randint(10, 200))
            blocks.append({"type": "tool_use", "id": tool_id, "name": tool_name, "input": {"command": command}})
        mid, rid = self._new_mid(), "req_011C" + base62(r, 18)
        call = Call(mid=mid, ms=s.ms, model=model, values=values, lines=[])
        for i, block in enumerate(blocks):
            stop = ("tool_use" if tool else "end_turn") if i == len(blocks) - 1 else None
            msg = lines.message(mid, model, block, stop, use)
            if i == 0:
                call.message = msg
            uid = uuid4(r)
            call.lines.append(s.log.add(lines.assistant_line(s, msg, rid, uid, s.ms + 7 * i, sidechain, agent_id)))
            s.parent_uuid = uid
        self.counts["usage_lines"] += len(blocks)
        self.counts["duplicate_lines"] += len(blocks) - 1
        s.calls.append(call)
        return tool_name

    def _tool_result(self, s: Session, tool_name: str, sidechain: bool, agent_id: str | None) -> None:
        r = self.rng
        s.ms += r.randint(50, 20_000)
        body = self.text.take(int(r.paretovariate(1.5) * 350))
        uid = uuid4(r)
        s.log.add(lines.tool_result_line(s, uid, "toolu_01" + base62(r, 22), tool_name, body, sidechain, agent_id))
        s.parent_uuid = uid
        s.ctx += len(body) // 4 + r.randint(200, 6_000)  # the body stands for a larger file or output

    def _synthetic(self, s: Session, sidechain: bool, agent_id: str | None) -> None:
        reset = (s.ms // 1000 // 3600 + 3) * 3600
        text = f"Claude AI usage limit reached|{reset}" if self.rng.random() < 0.5 else "API Error: 529 Overloaded"
        mid = uuid4(self.rng)
        s.log.add(lines.synthetic_line(s, mid, uuid4(self.rng), text, sidechain, agent_id))
        self.counts["synthetic_lines"] += 1
        self.counts["usage_lines"] += 1

    # -- files ---------------------------------------------------------------------------------------

    def _subagent(self, parent: Session) -> None:
        """A Task sub-agent's file; some start by replaying parent calls (/btw: same id, new requestId)."""
        r = self.rng
        aid = f"{r.getrandbits(32):08x}"
        start = r.randint(parent.calls[0].ms if parent.calls else parent.ms, parent.ms)
        s = Session(
            sid=parent.sid,
            project=parent.project,
            cwd=parent.cwd,
            version=parent.version,
            branch=parent.branch,
            model=parent.model,
            ms=start,
            ctx=r.randint(8_000, 15_000),
        )
        s.parent_uuid = self._user(s, self.text.take(r.randint(50, 400)), True, aid)
        if r.random() < 0.4:
            earlier = [c for c in parent.calls if c.counted and c.ms < start and c.message is not None]
            for call in r.sample(earlier, min(len(earlier), r.randint(1, 3))):
                assert call.message is not None
                s.ms += r.randint(100, 2_000)
                rid = "req_011C" + base62(r, 18)
                s.log.add(lines.assistant_line(s, call.message, rid, uuid4(r), s.ms, True, aid))
                self.counts["btw_replays"] += 1
                self.counts["usage_lines"] += 1
                self.counts["duplicate_lines"] += 1
        before = len(s.calls)
        steps = r.randint(2, 10)
        model = SMALL_MODEL if r.random() < 0.4 else parent.model
        self._agentic_run(s, steps, sidechain=True, agent_id=aid, model=model)
        self.counts["sidechain_calls"] += len(s.calls) - before
        self.counts["sidechain_files"] += 1
        self._finish(s, self.root / parent.project / parent.sid / "subagents" / f"agent-{aid}.jsonl")

    def _finish(self, s: Session, path: Path) -> None:
        """Damage a few files, write, then count every call that kept an intact line."""
        r = self.rng
        if s.calls and r.random() < 0.03:
            self.counts["corrupted_files"] += 1
            for call in r.sample(s.calls, min(len(s.calls), r.randint(1, 2))):
                s.log.tear(call.lines[0], r)  # a first line: no earlier copy in the file can stand in for it
        if s.log.lines and r.random() < 0.03 and len(s.log.lines) - 1 not in s.log.torn:
            s.log.truncate_tail(r)
        self.emit(path, s.log)
        for call in s.calls:
            if any(s.log.intact(i) for i in call.lines):
                call.counted = True
                self.tally.add(call.ms, call.model, call.values)
