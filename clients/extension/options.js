// The options page: the server's address, pairing (a one-time code for this extension's own
// token), which providers to read, the z.ai login capture, and links to each usage page.
import { ago } from "./lib/format.js";
import { PROVIDERS, load, normalizeServer, save } from "./lib/settings.js";
import * as server from "./lib/server.js";

const $ = (id) => document.getElementById(id);

function say(id, text, kind = "") {
  $(id).textContent = text;
  $(id).className = `state ${kind}`;
}

// An address outside the manifest's loopback hosts needs the user's permission first. Match
// patterns name no port (a pattern's host covers every port; Firefox refuses one with a port).
async function allowed(address) {
  const url = new URL(address);
  const origins = [`${url.protocol}//${url.hostname}/*`];
  try {
    if (await chrome.permissions.contains({ origins })) return true;
    return await chrome.permissions.request({ origins });
  } catch {
    return false;
  }
}

async function checkServer() {
  let address;
  try {
    address = normalizeServer($("server").value);
  } catch {
    say("server-state", "That is not an address (http://host:port).", "bad");
    return false;
  }
  $("server").value = address;
  if (!(await allowed(address))) {
    say("server-state", "The browser did not allow this extension to reach that address.", "bad");
    return false;
  }
  await save({ server: address });
  const settings = await load();
  try {
    const ping = await server.ping(settings);
    say("server-state", `agentgauge ${ping.version} answers at ${address}.`, "ok");
  } catch (error) {
    say("server-state", error.message, "bad");
    return false;
  }
  await showPairing();
  return true;
}

async function showPairing() {
  const settings = await load();
  $("extension-page").href = `${settings.server}/extension`;
  $("snippets").textContent = [
    `curl -s ${settings.server}/api/usage`,
    `curl -sX POST '${settings.server}/api/refresh?wait=75'`,
    `curl -s ${settings.server}/api/ping`,
  ].join("\n");
  if (!settings.token) {
    say("paired", "Not paired yet.");
    $("pair-form").hidden = false;
    $("unpair").hidden = true;
    return;
  }
  $("pair-form").hidden = true;
  $("unpair").hidden = false;
  try {
    const hello = await server.hello(settings);
    say("paired", `Paired as “${hello.name}” (id ${hello.id}) with agentgauge ${hello.server.version}.`, "ok");
  } catch (error) {
    say("paired", error.status === 401 ? "The server no longer knows this extension: pair it again." : error.message, "bad");
    if (error.status === 401) {
      $("pair-form").hidden = false;
      $("unpair").hidden = true;
    }
  }
}

async function pair(event) {
  event.preventDefault();
  if (!(await checkServer())) return;
  const settings = await load();
  const name = $("name").value.trim() || defaultName();
  try {
    const answer = await server.pair(settings, $("code").value.trim(), name);
    await save({ token: answer.token, pairedId: answer.id, pairedName: answer.name });
    $("code").value = "";
    chrome.runtime.sendMessage({ type: "wake" }).catch(() => {});
  } catch (error) {
    say("paired", error.message, "bad");
    return;
  }
  await showPairing();
}

function defaultName() {
  const brand = navigator.userAgentData?.brands?.find((b) => !/not.a.brand/i.test(b.brand))?.brand || "Browser";
  const platform = navigator.userAgentData?.platform || navigator.platform || "";
  return `${brand}${platform ? ` on ${platform}` : ""}`;
}

async function showProviders() {
  const settings = await load();
  $("providers").replaceChildren(
    ...PROVIDERS.map((p) => {
      const box = Object.assign(document.createElement("input"), { type: "checkbox", id: `use-${p.id}`, checked: settings.enabled[p.id] });
      box.addEventListener("change", async () => {
        const current = await load();
        await save({ enabled: { ...current.enabled, [p.id]: box.checked } });
      });
      const label = Object.assign(document.createElement("label"), { htmlFor: box.id, textContent: p.name });
      const link = Object.assign(document.createElement("a"), { href: p.page, target: "_blank", rel: "noopener", textContent: "usage page" });
      const result = settings.results[p.id];
      const status = Object.assign(document.createElement("span"), {
        className: "result",
        textContent: result ? `${result.ok ? "pushed" : result.message} · ${ago(new Date(result.at).toISOString())}` : "",
      });
      status.dataset.provider = p.id;
      const item = document.createElement("li");
      item.append(box, label, link, status);
      return item;
    }),
  );
  $("zai").textContent = settings.zaiToken
    ? `z.ai login captured ${ago(new Date(settings.zaiTokenAt).toISOString())}.`
    : "z.ai login not captured yet: open chat.z.ai while logged in.";
}

async function main() {
  const settings = await load();
  $("server").value = settings.server;
  $("name").value = settings.pairedName || defaultName();
  $("account").value = settings.account;
  $("check").addEventListener("click", checkServer);
  $("pair-form").addEventListener("submit", pair);
  $("unpair").addEventListener("click", async () => {
    await save({ token: "", pairedId: "", pairedName: "" });
    await showPairing();
  });
  $("account").addEventListener("change", async () => save({ account: $("account").value.trim() || "default" }));
  chrome.storage.onChanged.addListener(() => showProviders());
  await Promise.all([showPairing(), showProviders()]);
}

main();
