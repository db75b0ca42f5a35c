// The settings page's users (admins only) and API keys (everyone: their own; admins see all).
import { $, h } from "./dom.js";
import { send, when } from "./send.js";

let me = null;

async function loadUsers(report) {
  const { users } = await send("GET", "api/users");
  const rows = users.map((u) => {
    const role = h("select", { "aria-label": `Role of ${u.name}` },
      ...["viewer", "admin"].map((r) => h("option", { value: r, selected: r === u.role }, r)));
    role.addEventListener("change", () => act(report, () => send("PATCH", `api/users/${encodeURIComponent(u.name)}`,
      { role: role.value }), () => loadUsers(report)));
    const remove = h("button", { type: "button", class: "btn", "aria-label": `Remove ${u.name}` }, "Remove");
    remove.addEventListener("click", () => {
      if (!confirm(`Remove ${u.name}? Their sessions end and their API keys are revoked.`)) return;
      act(report, () => send("DELETE", `api/users/${encodeURIComponent(u.name)}`), () => loadUsers(report));
    });
    return h("tr", { "data-user": u.name }, h("td", {}, u.name, me?.user?.name === u.name ? " (you)" : ""),
      h("td", {}, role), h("td", {}, when(u.created_at)), h("td", {}, remove));
  });
  document.querySelector("#users-table tbody").replaceChildren(...rows);
}

async function loadKeys(report) {
  const { keys } = await send("GET", "api/keys");
  const rows = keys.map((k) => {
    const revoke = h("button", { type: "button", class: "btn", "aria-label": `Revoke ${k.name}` }, "Revoke");
    revoke.addEventListener("click", () => act(report, () => send("DELETE", `api/keys/${encodeURIComponent(k.id)}`),
      () => loadKeys(report)));
    return h("tr", { "data-key": k.id }, h("td", {}, k.name), h("td", {}, h("code", {}, k.id)), h("td", {}, k.scope),
      h("td", {}, k.user || "—"), h("td", {}, when(k.last_used_at)), h("td", {}, revoke));
  });
  document.querySelector("#keys-table tbody").replaceChildren(...rows);
}

async function act(report, change, reload) {
  try {
    await change();
    report("");
    await reload();
  } catch (err) {
    report(err.message);
  }
}

export function initAccess(who, report) {
  me = who;
  const person = who.via !== "key";
  if (person && who.role === "admin") {
    $("users").hidden = false;
    loadUsers(report).catch((err) => report(err.message));
    $("user-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const body = { name: $("user-name").value, password: $("user-password").value, role: $("user-role").value };
      act(report, () => send("POST", "api/users", body), async () => {
        $("user-form").reset();
        await loadUsers(report);
      });
    });
  }
  if (person) {
    $("keys").hidden = false;
    if (who.role !== "admin") $("key-scope").replaceChildren(h("option", { value: "read" }, "read"));
    loadKeys(report).catch((err) => report(err.message));
    $("key-form").addEventListener("submit", (e) => {
      e.preventDefault();
      act(report, async () => {
        const made = await send("POST", "api/keys", { name: $("key-name").value, scope: $("key-scope").value });
        $("new-key-text").textContent = made.key;
        $("new-key").hidden = false;
      }, async () => {
        $("key-form").reset();
        await loadKeys(report);
      });
    });
  }
  if (who.via === "session") {
    $("password").hidden = false;
    $("password-user").value = who.user.name;
    $("password-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const body = { current: $("password-current").value, new: $("password-new").value };
      act(report, () => send("POST", "api/me/password", body), async () => {
        $("password-form").reset();
        $("password-done").textContent = "Password changed; your other sessions were signed out.";
      });
    });
  }
}
