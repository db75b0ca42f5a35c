"""agentgauge as an MCP server: ``agentgauge mcp`` (stdio, for Claude Code, Codex, Cursor...) and
``/mcp`` on ``serve`` (streamable HTTP, behind the same Host check and token as the API).

``server`` builds the tools over a ``backends`` reader; ``views`` shapes and caps the answers;
``http`` is the ASGI endpoint ``serve`` routes to. docs/agents.md has the client configuration.
"""
