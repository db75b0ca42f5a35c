// The settings page's provider accounts (admins): a table of the accounts in use, and one form for
// adding or editing, generated from the provider's declared settings (api/accounts/providers).
// Secrets are write-only: the page only ever learns whether one is set.
import { $, h } from "./dom.js";
import { send } from "./send.js";

const catalog = new Map(); // provider id -> {id, name, settings, min_interval, sources, docs_url}
let accounts = [];
let globalInterval = 300;
let editing = null; // the account being edited, or null when adding
let report = () => {};

const label = (a) => (a.account === "default" ? a.name : `${a.name} (${a.account})`);

function statusCell(a, test) {
  const bits = [h("span", { class: a.status === "ok" ? "status-ok" : a.status === "error" ? "status-bad" : "" }, a.status)];
  if (a.error) bits.push(h("div", { class: "muted small" }, a.error.message));
  if (test) bits.push(h("div", { class: `small ${test.ok ? "status-ok" : "status-bad"}`, "data-test": test.status }, test.text));
  return h("td", { class: "acct-status" }, ...bits);
}

function testText(result) {
  if (!result.fetched_now) return `Not fetched now (the provider's minimum interval holds): last result ${result.status}.`;
  if (result.ok) return `Connection works: ${result.windows} window${result.windows === 1 ? "" : "s"} (${result.source_label}).`;
  return `Test failed: ${result.error ? result.error.message : result.status}`;
}

async function test(a) {
  const row = document.querySelector(`#accounts-table tr[data-account="${CSS.escape(`${a.provider}/${a.account}`)}"]`);
  row?.setAttribute("aria-busy", "true");
  try {
    const result = await send("POST", `api/accounts/${encodeURIComponent(a.provider)}/${encodeURIComponent(a.account)}/test`);
    await load({ [`${a.provider}/${a.account}`]: { ok: result.ok, status: result.status, text: testText(result) } });
  } catch (err) {
    report(err.message);
  } finally {
    row?.removeAttribute("aria-busy");
  }
}

async function change(method, a, body) {
  try {
    await send(method, `api/accounts/${encodeURIComponent(a.provider)}/${encodeURIComponent(a.account)}`, body);
    report("");
    await load();
  } catch (err) {
    report(err.message);
  }
}

function row(a, tests) {
  const key = `${a.provider}/${a.account}`;
  const button = (text, onclick, name) => h("button", { type: "button", class: "btn", "aria-label": `${name} ${label(a)}`, onclick }, text);
  const actions = [
    button("Edit", () => openEditor(a), "Edit"),
    button("Test", () => test(a), "Test"),
    a.enabled ? button("Disable", () => change("PATCH", a, { enabled: false }), "Disable")
      : button("Enable", () => change("PATCH", a, { enabled: a.disabled_here ? null : true }), "Enable"),
  ];
  if (a.removable || (a.account === "default" && a.added_here)) {
    const word = a.account === "default" ? "Forget" : "Remove";
    actions.push(button(word, () => {
      const what = a.account === "default" ? `Forget what was stored for ${label(a)}?` : `Remove ${label(a)} and its stored secrets?`;
      if (confirm(what)) change("DELETE", a);
    }, word));
  }
  const every = a.refresh_interval ? `every ${a.refresh_interval} s` : `every ${Math.max(globalInterval, a.min_interval)} s (global)`;
  return h("tr", { "data-account": key, "data-enabled": String(a.enabled) },
    h("td", {}, label(a), a.added_here ? h("div", { class: "muted small" }, "added here") : null),
    statusCell(a, tests[key]), h("td", {}, a.enabled ? every : "disabled"), h("td", {}, ...actions));
}

async function load(tests = {}) {
  const data = await send("GET", "api/accounts");
  accounts = data.accounts;
  globalInterval = data.refresh_interval;
  document.querySelector("#accounts-table tbody").replaceChildren(...accounts.map((a) => row(a, tests)));
  $("accounts-none").hidden = accounts.length > 0;
}

function field(spec, current) {
  const id = `setting-${spec.name}`;
  const locked = current?.locked || null;
  let input;
  if (spec.secret) {
    input = h("input", { id, type: "password", autocomplete: "new-password", "data-name": spec.name, "data-secret": "1",
      placeholder: current?.set ? "set · type to replace" : "not set" });
  } else if (spec.choices.length) {
    input = h("select", { id, "data-name": spec.name },
      h("option", { value: "" }, spec.default ? `default (${spec.default})` : "default"),
      ...spec.choices.map((c) => h("option", { value: c, selected: current?.value === c }, c)));
  } else {
    input = h("input", { id, "data-name": spec.name, value: current?.value || "", placeholder: spec.default || "" });
  }
  input.dataset.initial = spec.secret ? "" : current?.value || "";
  if (locked) input.disabled = true;
  const from = current?.from ? ` · from the ${current.from}` : "";
  return h("label", { for: id }, h("span", {}, spec.name, spec.secret ? " (secret)" : ""), input,
    h("span", { class: "help" }, spec.help + from), locked ? h("span", { class: "lock" }, locked) : null);
}

function renderFields() {
  const p = catalog.get($("form-provider").value);
  if (!p) return;
  const current = editing ? new Map(editing.settings.map((s) => [s.name, s])) : new Map();
  $("form-settings").replaceChildren(...p.settings.map((s) => field(s, current.get(s.name))));
  $("form-provider-help").textContent = `Sources, in the order tried: ${p.sources.join("; ") || "none"}.`;
  const interval = $("form-interval");
  interval.min = String(p.min_interval);
  interval.placeholder = String(Math.max(globalInterval, p.min_interval));
  $("form-interval-help").textContent = `At least ${p.min_interval} s (the provider's minimum); empty: the global ${globalInterval} s.`;
}

function openEditor(a) {
  editing = a || null;
  $("editor-title").textContent = a ? `Edit ${label(a)}` : "Add an account";
  $("form-provider").value = a ? a.provider : $("form-provider").value;
  $("form-provider").disabled = Boolean(a);
  $("form-account").value = a ? a.account : "default";
  $("form-account").disabled = Boolean(a);
  $("form-enabled").checked = a ? a.enabled : true;
  $("form-interval").value = a?.refresh_interval ? String(a.refresh_interval) : "";
  $("form-error").hidden = true;
  renderFields();
  $("account-editor").hidden = false;
  $("add-account").hidden = true;
  $("form-provider").focus();
}

function closeEditor() {
  editing = null;
  $("account-editor").hidden = true;
  $("add-account").hidden = false;
}

function collect() {
  const settings = {};
  for (const input of $("form-settings").querySelectorAll("[data-name]")) {
    if (input.disabled) continue;
    const value = input.value.trim();
    if (input.dataset.secret) {
      if (value) settings[input.dataset.name] = value;
    } else if (!editing) {
      if (value) settings[input.dataset.name] = value;
    } else if (value !== input.dataset.initial) {
      settings[input.dataset.name] = value || null;
    }
  }
  const raw = $("form-interval").value.trim();
  return { settings, enabled: $("form-enabled").checked, refresh_interval: raw ? Number(raw) : null };
}

async function save(thenTest) {
  const body = collect();
  $("form-error").hidden = true;
  try {
    let saved;
    if (editing) {
      saved = await send("PATCH", `api/accounts/${encodeURIComponent(editing.provider)}/${encodeURIComponent(editing.account)}`, body);
    } else {
      saved = await send("POST", "api/accounts", { provider: $("form-provider").value, account: $("form-account").value.trim(), ...body });
    }
    closeEditor();
    await load();
    if (thenTest && saved.account) await test(saved.account);
  } catch (err) {
    $("form-error").textContent = err.message;
    $("form-error").hidden = false;
  }
}

export async function initAccounts(reportTo) {
  report = reportTo;
  const { providers } = await send("GET", "api/accounts/providers");
  for (const p of providers) catalog.set(p.id, p);
  $("form-provider").replaceChildren(...providers.map((p) => h("option", { value: p.id }, p.name)));
  $("form-provider").addEventListener("change", renderFields);
  $("add-account").addEventListener("click", () => openEditor(null));
  $("form-cancel").addEventListener("click", closeEditor);
  $("account-form").addEventListener("submit", (e) => {
    e.preventDefault();
    save(false);
  });
  $("form-save-test").addEventListener("click", () => {
    if ($("account-form").reportValidity()) save(true);
  });
  $("accounts").hidden = false;
  await load();
}
