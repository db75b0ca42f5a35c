// What the settings page's agent list offers. Plain code: it runs in the settings page (a browser)
// and in the tests.

/** @typedef {{key: string, name: string, status: string}} AgentChoice */
/** @typedef {{value: string, label: string}} Option */

export const ALL_AGENTS_LABEL = "Closest to a limit (all agents)";
export const PICK_LABEL = "Choose an agent…";

/** @type {Record<string, string>} */
const STATUS_WORDS = {
  stale: "stale",
  error: "error",
  unconfigured: "not set up",
  waiting: "waiting",
  disabled: "disabled",
};

/**
 * The options of the agent list: the server's agents in its order (with their status when not ok),
 * the saved choice kept even when the server no longer has it, and a first entry that is either
 * "all agents" (the key) or a prompt (a dial needs one agent).
 * @param {AgentChoice[]} agents
 * @param {{allowAll: boolean, selected: string}} options
 * @returns {Option[]}
 */
export function agentOptions(agents, options) {
  /** @type {Option[]} */
  const out = [{ value: "", label: options.allowAll ? ALL_AGENTS_LABEL : PICK_LABEL }];
  for (const agent of agents) {
    const word = Object.hasOwn(STATUS_WORDS, agent.status) ? ` (${STATUS_WORDS[agent.status]})` : "";
    out.push({ value: agent.key, label: `${agent.name}${word}` });
  }
  if (options.selected && !agents.some((a) => a.key === options.selected)) {
    out.push({ value: options.selected, label: `${options.selected} (not on this server)` });
  }
  return out;
}
