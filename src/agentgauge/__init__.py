"""agentgauge: one view of every AI coding agent's usage limits."""

__version__ = "0.1.0"
