// The server's extension page (/extension): a one-time pairing code, and the paired browser
// extensions with a Revoke button each. Every URL is relative (a reverse proxy's sub-path works).
const csrf = document.querySelector('meta[name="agentgauge-csrf"]')?.content ?? "";
const headers = { "X-AgentGauge-CSRF": csrf };

function when(iso) {
  return iso ? new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "never";
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

async function list() {
  const answer = await fetch("api/extensions", { headers, cache: "no-store" });
  const { extensions } = await answer.json();
  const rows = extensions.map((e) => {
    const tr = document.createElement("tr");
    tr.dataset.id = e.id;
    const button = Object.assign(document.createElement("button"), { type: "button", className: "btn", textContent: "Revoke" });
    button.setAttribute("aria-label", `Revoke ${e.name}`);
    button.addEventListener("click", () => revoke(e.id));
    const action = document.createElement("td");
    action.append(button);
    const seen = e.connected ? "connected now" : when(e.last_used_at);
    tr.append(cell(e.name), cell(e.id), cell(when(e.created_at)), cell(seen), cell(e.providers.join(", ") || "—"), action);
    return tr;
  });
  document.querySelector("#paired tbody").replaceChildren(...rows);
  document.getElementById("none").hidden = rows.length > 0;
}

async function revoke(id) {
  await fetch(`api/extensions/${encodeURIComponent(id)}`, { method: "DELETE", headers });
  await list();
}

async function newCode() {
  const answer = await fetch("api/extensions/pairing", { method: "POST", headers });
  const code = await answer.json();
  const until = new Date(code.expires_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  document.getElementById("code").textContent = answer.ok ? `${code.code} (valid until ${until}, once)` : code.error;
}

document.getElementById("new-code").addEventListener("click", newCode);
list();
