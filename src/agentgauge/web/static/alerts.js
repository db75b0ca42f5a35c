// The alerts panel (read-only): recent alert events and where they were sent, from api/alerts.
// Rules and targets come from the config file and the settings page (docs/alerts.md); target addresses never reach the page.
import { $, ago, h } from "./dom.js";
import { api } from "./state.js";

const SHOWN = 10;
const STATUS_TEXT = { queued: "queued", held: "held (quiet hours)", suppressed: "suppressed (cooldown)",
  recorded: "recorded (no target)", delivered: "delivered", failed: "failed", "partly delivered": "partly delivered" };

function eventRow(e) {
  const sent = e.deliveries.map((d) => `${d.target}: ${d.status}`).join(", ");
  return h("li", { class: "alert-event", "data-event": e.event, "data-severity": e.severity },
    h("span", { class: "alert-title" }, e.title),
    h("span", { class: "muted small" }, " · ", ago(e.created_at, ""), " · ", STATUS_TEXT[e.status] || e.status,
      sent ? ` (${sent})` : ""));
}

export async function loadAlerts() {
  let data;
  try {
    data = await api(`api/alerts?limit=${SHOWN}`);
  } catch {
    return; // an older server or a database outage: the panel stays as it was
  }
  const panel = $("alerts");
  const targets = data.targets.filter((t) => t.enabled).map((t) => t.name);
  $("alerts-targets").textContent = !data.enabled ? "Alerts are turned off."
    : targets.length ? `Sent to: ${targets.join(", ")}.` : "No delivery target configured: alerts are only listed here.";
  $("alerts-list").replaceChildren(...data.events.map(eventRow));
  $("alerts-empty").hidden = data.events.length > 0;
  panel.hidden = !data.enabled && !data.events.length;
}
