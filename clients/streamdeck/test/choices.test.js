// The settings page's agent list for the real server's agents.
import assert from "node:assert/strict";
import { test } from "node:test";

import { agentOptions, ALL_AGENTS_LABEL, PICK_LABEL } from "../src/lib/choices.js";
import { agentChoices, readModel } from "../src/lib/model.js";
import { serverJson } from "./support/server.js";

const agents = agentChoices(readModel(await serverJson("/api/usage"), Date.now()));

test("a dial lists the server's agents after a prompt; a key offers 'all agents' first", () => {
  const dial = agentOptions(agents, { allowAll: false, selected: "" });
  assert.deepEqual(dial[0], { value: "", label: PICK_LABEL });
  assert.deepEqual(
    dial.slice(1).map((o) => o.value),
    agents.map((a) => a.key),
  );
  assert.equal(agentOptions(agents, { allowAll: true, selected: "" })[0].label, ALL_AGENTS_LABEL);
});

test("a saved agent the server no longer has stays selectable, marked", () => {
  const options = agentOptions(agents, { allowAll: false, selected: "gone:work" });
  assert.deepEqual(options.at(-1), { value: "gone:work", label: "gone:work (not on this server)" });
  assert.equal(agentOptions(agents, { allowAll: false, selected: agents[0].key }).length, agents.length + 1);
});

test("an agent that is not ok says why in the list", () => {
  const withStatus = agentOptions(
    [
      { key: "zai", name: "z.ai", status: "stale" },
      { key: "kimi", name: "Kimi", status: "ok" },
    ],
    {
      allowAll: false,
      selected: "",
    },
  );
  assert.deepEqual(
    withStatus.slice(1).map((o) => o.label),
    ["z.ai (stale)", "Kimi"],
  );
});
