// Runs on chat.z.ai and z.ai: hands the login token those pages keep in localStorage to the
// extension's service worker (page scripts cannot read other sites' storage; this script can
// read only this site's). The token goes nowhere but z.ai's own quota API.
(() => {
  const KEYS =
    location.hostname === "chat.z.ai" ? ["token"] : ["z-ai-open-platform-token-production", "z-ai-website-token"];

  function unquote(value) {
    try {
      const parsed = JSON.parse(value);
      return typeof parsed === "string" ? parsed : value;
    } catch {
      return value;
    }
  }

  function capture() {
    for (const key of KEYS) {
      const value = localStorage.getItem(key);
      if (value) {
        chrome.runtime.sendMessage({ type: "zai-token", token: unquote(value).trim() }).catch(() => {});
        return;
      }
    }
  }

  capture();
  setTimeout(capture, 5000); // a login that finishes after the page loaded
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && capture());
})();
