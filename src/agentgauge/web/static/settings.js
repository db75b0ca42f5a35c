// The settings page (/settings): provider accounts (admins), alert rules and targets (admins edit
// them, others read them), users (admins), API keys and your password. What is shown follows api/me:
// who you are and your role.
import { initAccess } from "./access.js";
import { initAccounts } from "./accounts.js";
import { initAlertAdmin } from "./alert_admin.js";
import { $, h } from "./dom.js";
import { send } from "./send.js";

function report(text) {
  $("notice").textContent = text || "";
  $("notice").hidden = !text;
}

async function loadAlerts() {
  const data = await send("GET", "api/alerts?limit=1");
  const rules = data.rules.map((r) => {
    const scope = [r.providers.join(", "), r.windows.join(", ")].filter(Boolean).join(" · ");
    const detail = r.thresholds ? `at ${r.thresholds.join(" / ")} %` : r.after_minutes ? `after ${r.after_minutes} min`
      : r.min_lead_minutes ? `${r.min_lead_minutes} min ahead` : "";
    return h("li", { "data-rule": r.name }, h("b", {}, r.name), ` (${r.kind}${detail ? `, ${detail}` : ""})`,
      scope ? ` · ${scope}` : "", r.targets.length ? ` → ${r.targets.join(", ")}` : " → listed only",
      r.enabled ? "" : " · off");
  });
  const targets = data.targets.map((t) => h("li", { "data-target": t.name }, h("b", {}, t.name), ` · ${t.kind} · ${t.address}`,
    t.enabled ? "" : " · off"));
  $("alert-rules").replaceChildren(...(rules.length ? rules : [h("li", { class: "muted" }, "No rule.")]));
  $("alert-targets").replaceChildren(...(targets.length ? targets : [h("li", { class: "muted" }, "No delivery target.")]));
  $("alerts").hidden = false;
}

async function start() {
  let me;
  try {
    me = await send("GET", "api/me");
  } catch (err) {
    report(err.message);
    return;
  }
  $("who").textContent = me.user ? `${me.user.name} · ${me.role}` : me.via === "key" ? `API key · ${me.role}` : "";
  if (me.can_sign_out) {
    $("sign-out").hidden = false;
    $("sign-out").addEventListener("click", async () => {
      await send("POST", "logout").catch(() => {});
      location.assign("login");
    });
  }
  if (me.role === "admin") initAccounts(report).catch((err) => report(err.message));
  if (me.role === "admin") initAlertAdmin(report).catch((err) => report(err.message));
  else loadAlerts().catch(() => {}); // alerts off or an older server: the panel stays hidden
  initAccess(me, report);
}

start();
