"""The two Alibaba Cloud Model Studio sites: international (Singapore) and China mainland (Beijing).

Facts of each site's console, as its Coding Plan and Token Plan pages use them (CodexBar's
``AlibabaCodingPlanAPIRegion`` / ``AlibabaTokenPlanAPIRegion``): the console host, the host of its
console RPC gateway, the gateway action, region id, console site names and commodity codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .._settings import Gate, choice, gate


@dataclass(frozen=True)
class Region:
    name: str
    console: str  # the Model Studio / Bailian console: pages, sec_token, the API-key gateway, Team summary
    rpc: str  # the console RPC gateway of the Coding Plan and the personal Token Plan
    region_id: str
    action: str
    coding_site: str
    token_site: str
    coding_commodity: str
    token_commodity: str
    team_product: str
    coding_page: str  # path (and query) of the Coding Plan page
    token_page: str
    cookie_domain: str


INTL = Region(
    name="intl",
    console="https://modelstudio.console.alibabacloud.com",
    rpc="https://bailian-singapore-cs.alibabacloud.com",
    region_id="ap-southeast-1",
    action="IntlBroadScopeAspnGateway",
    coding_site="MODELSTUDIO_ALIBABACLOUD",
    token_site="MODELSTUDIO_ALBABACLOUD",  # sic: the console's own spelling for this site
    coding_commodity="sfm_codingplan_public_intl",
    token_commodity="sfm_tokenplansolo_public_intl",
    team_product="sfm_tokenplanteams_dp_intl",
    coding_page="/ap-southeast-1/?tab=coding-plan",
    token_page="/ap-southeast-1/?tab=plan",
    cookie_domain="alibabacloud.com",
)
CN = Region(
    name="cn",
    console="https://bailian.console.aliyun.com",
    rpc="https://bailian-cs.console.aliyun.com",
    region_id="cn-beijing",
    action="BroadScopeAspnGateway",
    coding_site="BAILIAN_ALIYUN",
    token_site="BAILIAN_ALIYUN",
    coding_commodity="sfm_codingplan_public_cn",
    token_commodity="sfm_tokenplansolo_public_cn",
    team_product="sfm_tokenplanteams_dp_cn",
    coding_page="/cn-beijing/?tab=model",
    token_page="/cn-beijing?tab=plan",
    cookie_domain="aliyun.com",
)
REGIONS = {"intl": INTL, "international": INTL, "cn": CN, "china": CN}
PLANS = {"coding": "coding", "token": "token", "token_personal": "token", "token_team": "token_team"}


def region_of(settings: Mapping[str, str]) -> Region:
    hint = "Set AGENTGAUGE_ALIBABA_REGION to 'intl' or 'cn'."
    return choice(settings, "region", REGIONS, default="intl", provider="Alibaba", hint=hint)


def plan_of(settings: Mapping[str, str]) -> str:
    hint = "Set AGENTGAUGE_ALIBABA_PLAN to 'coding', 'token' or 'token_team'."
    return choice(settings, "plan", PLANS, default="coding", provider="Alibaba", hint=hint)


def is_region(name: str) -> Gate:
    """A ``when=`` gate: the settings name this region."""
    return gate(lambda settings: region_of(settings).name, name)
