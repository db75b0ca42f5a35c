"""The hub for many machines (docs/hub.md).

Each machine runs its own agentgauge (its own credentials, which never leave it, and its own store)
and pushes its snapshots to one hub with a per-machine token: ``serve --push-to URL`` or
``agentgauge push``. The hub records what it is sent like a fetch (state, history samples, forecast),
shows which machine each account came from, and counts an account seen from several machines once
(a keyed fingerprint of the account's identity, computed on the machine with the hub's salt).

Modules: ``machines`` (per-machine tokens, hashed), ``fingerprint`` (the salt, identities, the keyed
hash), ``receive`` (the hub's side of a push), ``outbox`` (the machine's local buffer with sequence
numbers), ``push`` (the machine's push loop: batches, retries with back-off).
"""

from __future__ import annotations

PUSH_PATH = "/api/hub/push"  # where machines send batches (their token, not the server's)
HELLO_PATH = "/api/hub/hello"  # who the token belongs to, and the hub's fingerprint salt
HUB_SOURCE = "hub"  # the ``source`` of an account the hub was sent by a machine
TOKEN_ENV = "AGENTGAUGE_PUSH_TOKEN"  # the machine token on the pushing side (never on the command line)
PUSH_TO_ENV = "AGENTGAUGE_PUSH_TO"  # the hub's URL for ``serve --push-to``
