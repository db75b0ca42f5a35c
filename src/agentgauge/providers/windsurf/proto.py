"""The protobuf messages of Windsurf's ``SeatManagementService/GetPlanStatus`` (Connect, binary).

Field numbers are the ones CodexBar took from Windsurf's bundled protobuf metadata and checked
against the web app's traffic:

- request: ``1 auth_token: string``, ``2 include_top_up_status: bool``;
- response: ``1 plan_status: PlanStatus``;
- ``PlanStatus``: ``1 plan_info: PlanInfo``, ``2 plan_start``, ``3 plan_end`` (``Timestamp``),
  ``10 top_up_status: {1 top_up_transaction_status}``, ``12 grace_period_status``,
  ``14 daily_quota_remaining_percent``, ``15 weekly_quota_remaining_percent``,
  ``17 daily_quota_reset_at_unix``, ``18 weekly_quota_reset_at_unix`` (varints);
- ``PlanInfo``: ``1 teams_tier`` (varint), ``2 plan_name`` (string);
- ``Timestamp``: ``1 seconds``, ``2 nanos``.

Unknown fields are skipped, as protobuf readers do. Only what agentgauge reads is decoded into a
plain dict (field names as above); the encoder is the inverse, for the request and the simulator.
"""

from __future__ import annotations

from typing import Any

from ...errors import ParseError

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.index = data, 0

    def varint(self) -> int:
        result, shift = 0, 0
        while self.index < len(self.data):
            byte = self.data[self.index]
            self.index += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7
            if shift >= 64:
                break
        raise ParseError("Windsurf: the plan status answer is truncated (varint)", field="plan_status")

    def chunk(self) -> bytes:
        length = self.varint()
        if self.index + length > len(self.data):
            raise ParseError("Windsurf: the plan status answer is truncated", field="plan_status")
        out = self.data[self.index : self.index + length]
        self.index += length
        return out

    def fields(self) -> list[tuple[int, int, Any]]:
        """Every (field number, wire type, value) in order; varints as ints, length-delimited as bytes."""
        out: list[tuple[int, int, Any]] = []
        while self.index < len(self.data):
            key = self.varint()
            number, wire = key >> 3, key & 0x07
            if number == 0:
                raise ParseError("Windsurf: the plan status answer is not protobuf", field="plan_status")
            if wire == VARINT:
                out.append((number, wire, self.varint()))
            elif wire == LENGTH:
                out.append((number, wire, self.chunk()))
            elif wire in (FIXED64, FIXED32):
                size = 8 if wire == FIXED64 else 4
                if self.index + size > len(self.data):
                    raise ParseError("Windsurf: the plan status answer is truncated", field="plan_status")
                self.index += size
            else:
                raise ParseError(f"Windsurf: unsupported protobuf wire type {wire}", field="plan_status")
        return out


def _message(data: bytes, varints: dict[int, str], strings: dict[int, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for number, wire, value in _Reader(data).fields():
        if wire == VARINT and number in varints:
            out[varints[number]] = value
        elif wire == LENGTH and number in strings:
            try:
                out[strings[number]] = value.decode("utf-8")
            except UnicodeDecodeError:
                raise ParseError("Windsurf: a text field is not UTF-8", field=strings[number]) from None
    return out


def _timestamp(data: bytes) -> float:
    parts = _message(data, {1: "seconds", 2: "nanos"}, {})
    return parts.get("seconds", 0) + parts.get("nanos", 0) / 1e9


def decode_response(data: bytes) -> dict[str, Any]:
    """``GetPlanStatusResponse`` as ``{"plan_status": {...}}`` (an empty dict when absent)."""
    root: dict[str, Any] = {}
    for number, wire, value in _Reader(data).fields():
        if number == 1 and wire == LENGTH:
            root["plan_status"] = _plan_status(value)
    return root


def _plan_status(data: bytes) -> dict[str, Any]:
    varints = {
        12: "grace_period_status",
        14: "daily_quota_remaining_percent",
        15: "weekly_quota_remaining_percent",
        17: "daily_quota_reset_at_unix",
        18: "weekly_quota_reset_at_unix",
    }
    out: dict[str, Any] = {}
    for number, wire, value in _Reader(data).fields():
        if wire == VARINT and number in varints:
            out[varints[number]] = value
        elif wire == LENGTH and number == 1:
            out["plan_info"] = _message(value, {1: "teams_tier"}, {2: "plan_name"})
        elif wire == LENGTH and number in (2, 3):
            out["plan_start" if number == 2 else "plan_end"] = _timestamp(value)
        elif wire == LENGTH and number == 10:
            out["top_up_status"] = _message(value, {1: "top_up_transaction_status"}, {})
    return out


# -- encoding (the request; the simulator's answers) -------------------------------------------------------
def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number: int, value: int) -> bytes:
    return _varint(number << 3 | VARINT) + _varint(value)


def field_bytes(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | LENGTH) + _varint(len(value)) + value


def encode_request(auth_token: str, include_top_up_status: bool = True) -> bytes:
    return field_bytes(1, auth_token.encode("utf-8")) + field_varint(2, 1 if include_top_up_status else 0)


def decode_request(data: bytes) -> dict[str, Any]:
    """The request's fields (the simulator checks them)."""
    return _message(data, {2: "include_top_up_status"}, {1: "auth_token"})


def encode_response(plan_status: dict[str, Any]) -> bytes:
    """The inverse of ``decode_response`` for the fields it reads."""
    body = b""
    info = plan_status.get("plan_info") or {}
    if info:
        inner = b""
        if "teams_tier" in info:
            inner += field_varint(1, int(info["teams_tier"]))
        if "plan_name" in info:
            inner += field_bytes(2, str(info["plan_name"]).encode())
        body += field_bytes(1, inner)
    for number, name in ((2, "plan_start"), (3, "plan_end")):
        if name in plan_status:
            body += field_bytes(number, field_varint(1, int(plan_status[name])))
    for number, name in (
        (12, "grace_period_status"),
        (14, "daily_quota_remaining_percent"),
        (15, "weekly_quota_remaining_percent"),
        (17, "daily_quota_reset_at_unix"),
        (18, "weekly_quota_reset_at_unix"),
    ):
        if name in plan_status:
            body += field_varint(number, int(plan_status[name]))
    return field_bytes(1, body)
