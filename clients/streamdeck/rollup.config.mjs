// Two bundles, each self-contained (`streamdeck pack` ships no node_modules): the plugin (ES module,
// run by the Stream Deck app's Node 20) and the settings page's script (a classic browser script).
import commonjs from "@rollup/plugin-commonjs";
import nodeResolve from "@rollup/plugin-node-resolve";

const sdPlugin = "dev.agentgauge.streamdeck.sdPlugin";

/** @type {import("rollup").RollupOptions[]} */
export default [
  {
    input: "src/plugin.js",
    output: { file: `${sdPlugin}/bin/plugin.js`, format: "es" },
    plugins: [
      nodeResolve({ browser: false, exportConditions: ["node"], preferBuiltins: true }),
      commonjs(),
      {
        name: "emit-module-package-file",
        generateBundle() {
          // Node reads bin/plugin.js as an ES module only with this file beside it.
          this.emitFile({ fileName: "package.json", source: `{ "type": "module" }\n`, type: "asset" });
        },
      },
    ],
  },
  {
    input: "src/pi/settings-page.js",
    output: { file: `${sdPlugin}/ui/settings.js`, format: "iife" },
    plugins: [nodeResolve({ browser: true })],
  },
];
