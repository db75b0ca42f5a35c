"""The built-in provider simulator (``agentgauge sim``)."""
