"""Pure reading of ``AIAssistantQuotaManager2.xml``: the two options the IDE writes, as decoded JSON.

The IDE stores each option as ``<option name="quotaInfo" value="{&quot;type&quot;: ...}"/>``: JSON
inside an XML attribute, so the XML parser already turns ``&quot;``/``&#10;`` back into ``"`` and a
line break. A value that still holds entities after that (written twice-escaped) is unescaped once
more. An absent or empty ``quotaInfo`` means the IDE has no quota yet (AI Assistant not used).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

import orjson

from ...errors import ParseError

COMPONENT = "AIAssistantQuotaManager2"
QUOTA_FILE = f"{COMPONENT}.xml"
# A DOCTYPE can declare entities (billion laughs); the IDE never writes one.
_DOCTYPE = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.I)


@dataclass(frozen=True)
class QuotaOptions:
    """The component's options: ``quota_info`` is None when the IDE has written no quota yet."""

    quota_info: Any
    next_refill: Any


def _decode(value: str | None, option: str) -> Any:
    text = (value or "").strip()
    if not text:
        return None
    for attempt in (text, html.unescape(text) if "&" in text else None):
        if attempt is None:
            break
        try:
            return orjson.loads(attempt)
        except orjson.JSONDecodeError:
            continue
    raise ParseError(f"JetBrains AI: the {option} option is not JSON", field=option)


def read_options(xml_text: str) -> QuotaOptions:
    """The decoded ``quotaInfo``/``nextRefill`` options of the quota file's text."""
    if _DOCTYPE.search(xml_text):
        raise ParseError("JetBrains AI: the quota file declares a DOCTYPE, which the IDE never writes", field="$")
    try:
        root = ElementTree.fromstring(xml_text)
    except ElementTree.ParseError:
        raise ParseError("JetBrains AI: the quota file is not well-formed XML", field="$") from None
    component = root if root.get("name") == COMPONENT else root.find(f".//component[@name='{COMPONENT}']")
    if component is None:
        field = f"component[@name='{COMPONENT}']"
        raise ParseError(f"JetBrains AI: the quota file has no {COMPONENT} component", field=field)
    values: dict[str, str | None] = {}
    for option in component.iter("option"):
        name = option.get("name")
        if name in ("quotaInfo", "nextRefill") and name not in values:
            values[name] = option.get("value")
    return QuotaOptions(_decode(values.get("quotaInfo"), "quotaInfo"), _decode(values.get("nextRefill"), "nextRefill"))


def has_quota(xml_text: str) -> bool:
    """Whether the file holds a quota (a file that does not parse counts as holding one, so the
    error is shown rather than hidden behind an older file)."""
    try:
        return read_options(xml_text).quota_info is not None
    except ParseError:
        return True


_DURATION = re.compile(r"^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def duration_seconds(value: Any) -> int | None:
    """An ISO-8601 duration of days and time (``PT720H``, ``P30D``) in seconds; None if not one."""
    if not isinstance(value, str):
        return None
    match = _DURATION.match(value.strip().upper())
    if match is None or not any(match.groups()):
        return None
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    total = int(days * 86400 + hours * 3600 + minutes * 60 + seconds)
    return total if total > 0 else None
