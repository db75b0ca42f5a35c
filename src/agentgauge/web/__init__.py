"""The web dashboard and HTTP API (agentgauge serve)."""
