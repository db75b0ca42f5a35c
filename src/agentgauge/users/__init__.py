"""People, sessions and API keys of multi-user mode (``auth = "users"``, docs/users.md).

- ``passwords``: argon2id hashing and the length policy;
- ``people``: users and their roles (``admin``, ``viewer``);
- ``sessions``: login sessions in the store (cookie digests only);
- ``keys``: API keys ``agk_<id>_<secret>`` (secret digests only), scoped ``read`` or ``write``;
- ``setup``: the one-time code that creates the first admin.

Everything is stored through ``Store.transaction()``, so every process serving one database agrees
at once on who may do what (a removed user or revoked key is refused on its next request).
"""

from __future__ import annotations

from . import keys, people, sessions, setup
from .keys import ApiKey
from .people import ROLES, User
from .sessions import Session

__all__ = ["ROLES", "ApiKey", "Session", "User", "keys", "people", "sessions", "setup"]
