// The settings page's alert rules and targets for admins (api/alert-settings): the config file's are
// listed locked, the ones added here can be edited, disabled, removed and (targets) sent a test alert.
// Target addresses and signing secrets are write-only: the page only learns scheme, host and "set".
import { $, h } from "./dom.js";
import { send } from "./send.js";

let data = null;
let editingRule = null;
let editingTarget = null;
let report = () => {};
const tests = {}; // target name -> text of its last test

const list = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);
const path = (kind, name) => `api/alert-settings/${kind}/${encodeURIComponent(name)}`;

async function act(doit) {
  try {
    await doit();
    report("");
    await load();
  } catch (err) {
    report(err.message);
  }
}

function button(text, name, onclick) {
  return h("button", { type: "button", class: "btn", "aria-label": `${text} ${name}`, onclick }, text);
}

function ruleDetail(r) {
  const bits = [r.kind];
  if (r.kind === "threshold") bits.push(`at ${r.thresholds.join(" / ")} %`);
  if (r.kind === "stale") bits.push(`after ${r.after_minutes} min`);
  if (r.kind === "reset") bits.push(`peak ≥ ${r.min_peak_pct} %`);
  if (r.kind === "forecast") bits.push(`${r.min_lead_minutes} min ahead`);
  const scope = [r.providers.join(", "), r.accounts.join(", "), r.windows.join(", ")].filter(Boolean).join(" · ");
  return ` (${bits.join(", ")})${scope ? ` · ${scope}` : ""} → ${r.targets.length ? r.targets.join(", ") : "every target"}`;
}

function ruleItem(r) {
  const kids = [h("b", {}, r.name), ruleDetail(r), r.enabled ? "" : " · off"];
  if (r.locked) kids.push(h("span", { class: "lock muted small", title: r.locked }, " · config file"));
  else {
    kids.push(" ", button("Edit", r.name, () => openRule(r)),
      button(r.enabled ? "Disable" : "Enable", r.name, () => act(() => send("PATCH", path("rules", r.name), { enabled: !r.enabled }))),
      button("Remove", r.name, () => confirm(`Remove the alert rule ${r.name}?`) && act(() => send("DELETE", path("rules", r.name)))));
  }
  return h("li", { "data-rule": r.name, "data-origin": r.origin }, ...kids);
}

function targetItem(t) {
  const address = t.address_set ? t.address : "address not set";
  const secret = t.kind === "webhook" ? ` · signing secret ${t.secret_set ? "set" : "not set"}` : "";
  const kids = [h("b", {}, t.name), ` · ${t.kind} · `, h("span", { "data-address": "" }, address), secret, t.enabled ? "" : " · off"];
  if (t.locked) kids.push(h("span", { class: "lock muted small", title: t.locked }, " · config file"));
  kids.push(" ", button("Send test", t.name, () => testTarget(t)));
  if (!t.locked) {
    kids.push(button("Edit", t.name, () => openTarget(t)),
      button(t.enabled ? "Disable" : "Enable", t.name, () => act(() => send("PATCH", path("targets", t.name), { enabled: !t.enabled }))),
      button("Remove", t.name, () => confirm(`Remove the alert target ${t.name} and its stored address?`)
        && act(() => send("DELETE", path("targets", t.name)))));
  }
  if (tests[t.name]) kids.push(h("div", { class: `small ${tests[t.name].ok ? "status-ok" : "status-bad"}`, "data-test": "" }, tests[t.name].text));
  return h("li", { "data-target": t.name, "data-origin": t.origin }, ...kids);
}

async function testTarget(t) {
  try {
    const result = await send("POST", `${path("targets", t.name)}/test`);
    tests[t.name] = { ok: result.ok, text: result.ok ? "Test alert sent." : `Test failed: ${result.error}` };
    report("");
    await load();
  } catch (err) {
    report(err.message);
  }
}

async function load() {
  data = await send("GET", "api/alert-settings");
  const rules = data.rules.map(ruleItem);
  const targets = data.targets.map(targetItem);
  $("alert-rules").replaceChildren(...(rules.length ? rules : [h("li", { class: "muted" }, "No rule.")]));
  $("alert-targets").replaceChildren(...(targets.length ? targets : [h("li", { class: "muted" }, "No delivery target.")]));
  const shadowed = (data.shadowed || []).map((row) => h("li", { "data-shadowed": `${row.kind}/${row.name}` },
    h("b", {}, row.name), ` · ${row.kind} · `,
    button("Remove", row.name, () => confirm(`Remove the alert ${row.kind} ${row.name} saved here?`)
      && act(() => send("DELETE", path(`${row.kind}s`, row.name))))));
  $("alert-shadowed-list").replaceChildren(...shadowed);
  $("alert-shadowed").hidden = !shadowed.length;
  if (!data.enabled) report("Alerts are turned off ([alerts] enabled = false or AGENTGAUGE_ALERTS=off): rules saved here wait.");
}

// -- the rule form ----------------------------------------------------------------------------------
function showKindFields() {
  const kind = $("rule-kind").value;
  for (const label of $("rule-form").querySelectorAll("[data-kinds]")) {
    const wanted = label.dataset.kinds;
    label.hidden = wanted === "window" ? !data.window_kinds.includes(kind) : wanted !== kind;
  }
}

function openRule(r) {
  editingRule = r || null;
  $("rule-editor-title").textContent = r ? `Edit the rule ${r.name}` : "Add a rule";
  $("rule-kind").value = r ? r.kind : "threshold";
  $("rule-name").value = r ? r.name : "";
  $("rule-name").disabled = Boolean(r);
  $("rule-enabled").checked = r ? r.enabled : true;
  const text = (v) => (v ? v.join(", ") : "");
  $("rule-providers").value = text(r?.providers);
  $("rule-accounts").value = text(r?.accounts);
  $("rule-windows").value = text(r?.windows);
  $("rule-targets").value = text(r?.targets);
  $("rule-thresholds").value = r?.kind === "threshold" ? text(r.thresholds) : "";
  $("rule-after").value = r?.kind === "stale" ? String(r.after_minutes) : "";
  $("rule-peak").value = r?.kind === "reset" ? String(r.min_peak_pct) : "";
  $("rule-lead").value = r?.kind === "forecast" ? String(r.min_lead_minutes) : "";
  $("rule-cooldown").value = r?.cooldown_minutes ?? "";
  $("rule-quiet").value = r?.quiet_hours ?? "";
  $("rule-error").hidden = true;
  showKindFields();
  $("rule-editor").hidden = false;
  $("rule-kind").focus();
}

function ruleBody() {
  const kind = $("rule-kind").value;
  const listOrNull = (id) => (list($(id).value).length ? list($(id).value) : null);
  const numberOrNull = (id, only) => ((only && kind !== only) || !$(id).value.trim() ? null : Number($(id).value));
  const thresholds = kind === "threshold" && list($("rule-thresholds").value).length
    ? list($("rule-thresholds").value).map(Number) : null;
  const body = {
    kind,
    enabled: $("rule-enabled").checked,
    providers: listOrNull("rule-providers"),
    accounts: listOrNull("rule-accounts"),
    windows: data.window_kinds.includes(kind) ? listOrNull("rule-windows") : null,
    targets: listOrNull("rule-targets"),
    thresholds,
    after_minutes: numberOrNull("rule-after", "stale"),
    min_peak_pct: numberOrNull("rule-peak", "reset"),
    min_lead_minutes: numberOrNull("rule-lead", "forecast"),
    cooldown_minutes: numberOrNull("rule-cooldown"),
    quiet_hours: $("rule-quiet").value.trim() || null,
  };
  if (editingRule) return body; // null reverts a field to its default
  return Object.fromEntries(Object.entries({ ...body, name: $("rule-name").value.trim() }).filter(([, v]) => v !== null));
}

async function saveRule() {
  $("rule-error").hidden = true;
  try {
    if (editingRule) await send("PATCH", path("rules", editingRule.name), ruleBody());
    else await send("POST", "api/alert-settings/rules", ruleBody());
    $("rule-editor").hidden = true;
    editingRule = null;
    await load();
  } catch (err) {
    $("rule-error").textContent = err.message;
    $("rule-error").hidden = false;
  }
}

// -- the target form --------------------------------------------------------------------------------
function showTypeFields() {
  const webhook = $("target-type").value === "webhook";
  $("target-secret-field").hidden = !webhook;
  $("target-address").placeholder = editingTarget?.address_set ? "set · type to replace"
    : webhook ? "https://example.com/hook" : "ntfy://ntfy.sh/my-topic";
  $("target-secret").placeholder = editingTarget?.secret_set ? "set · type to replace" : "not set";
}

function openTarget(t) {
  editingTarget = t || null;
  $("target-editor-title").textContent = t ? `Edit the target ${t.name}` : "Add a target";
  $("target-name").value = t ? t.name : "";
  $("target-name").disabled = Boolean(t);
  $("target-type").value = t && t.kind === "apprise" ? "url" : "webhook";
  $("target-address").value = ""; // write-only: never filled back
  $("target-address").required = !t;
  $("target-secret").value = "";
  $("target-enabled").checked = t ? t.enabled : true;
  $("target-error").hidden = true;
  showTypeFields();
  $("target-editor").hidden = false;
  $("target-name").focus();
}

function targetBody() {
  const body = { enabled: $("target-enabled").checked };
  const address = $("target-address").value.trim();
  const secret = $("target-secret").value.trim();
  if (address) body[$("target-type").value] = address;
  if (secret && $("target-type").value === "webhook") body.secret = secret;
  if (!editingTarget) body.name = $("target-name").value.trim();
  return body;
}

async function saveTarget() {
  $("target-error").hidden = true;
  try {
    if (editingTarget) await send("PATCH", path("targets", editingTarget.name), targetBody());
    else await send("POST", "api/alert-settings/targets", targetBody());
    $("target-editor").hidden = true;
    editingTarget = null;
    await load();
  } catch (err) {
    $("target-error").textContent = err.message;
    $("target-error").hidden = false;
  }
}

export async function initAlertAdmin(reportTo) {
  report = reportTo;
  await load();
  $("rule-kind").replaceChildren(...data.kinds.map((k) => h("option", { value: k }, k)));
  $("provider-ids").replaceChildren(...data.providers.map((p) => h("option", { value: p.id }, p.name)));
  $("rule-kind").addEventListener("change", showKindFields);
  $("target-type").addEventListener("change", showTypeFields);
  $("add-rule").addEventListener("click", () => openRule(null));
  $("add-target").addEventListener("click", () => openTarget(null));
  $("rule-cancel").addEventListener("click", () => { $("rule-editor").hidden = true; });
  $("target-cancel").addEventListener("click", () => { $("target-editor").hidden = true; });
  $("rule-form").addEventListener("submit", (e) => {
    e.preventDefault();
    saveRule();
  });
  $("target-form").addEventListener("submit", (e) => {
    e.preventDefault();
    saveTarget();
  });
  $("alerts-help").hidden = true;
  $("alerts-admin-help").hidden = false;
  $("alert-actions").hidden = false;
  $("alerts").hidden = false;
}
