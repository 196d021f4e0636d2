// Builds the shipped binaries with esbuild:
//   agent/dist/vigil-agent.mjs         one self-contained file: a host needs only `node` to run it
//   collector/dist/vigil-collector.mjs workspace code bundled; npm dependencies (PGlite's wasm, pg, fastify) stay in node_modules
//   collector/dist/vigil.mjs           the `vigil` CLI, built like the collector
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// Bundled CommonJS dependencies (grpc-js, pino) call require(); give the ESM bundle one.
const banner = { js: "import { createRequire as __vigilCreateRequire } from 'node:module'; const require = __vigilCreateRequire(import.meta.url);" };
const common = { bundle: true, platform: "node", format: "esm", target: "node20", sourcemap: "linked", banner, logLevel: "warning" };

// The collector's own npm dependencies stay external (resolved from collector/node_modules at run time);
// anything else (workspace packages and what they import) is bundled, so nothing resolves by accident.
const collectorDeps = new Set(Object.keys(JSON.parse(readFileSync(resolve(root, "collector/package.json"), "utf8")).dependencies));
const packageName = (p) => p.split("/").slice(0, p.startsWith("@") ? 2 : 1).join("/");
const externalNpm = {
  name: "external-npm",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (collectorDeps.has(packageName(args.path)) && !args.path.startsWith("@vigil/") ? { path: args.path, external: true } : undefined));
  },
};

await Promise.all([
  // Minified: the bundle's source text lives in the agent's heap (~4 MB less RSS); the linked map keeps stacks readable.
  build({ ...common, minify: true, keepNames: true, entryPoints: [resolve(root, "agent/src/main.ts")], outfile: resolve(root, "agent/dist/vigil-agent.mjs") }),
  build({ ...common, entryPoints: [resolve(root, "collector/src/main.ts")], outfile: resolve(root, "collector/dist/vigil-collector.mjs"), plugins: [externalNpm] }),
  build({ ...common, entryPoints: [resolve(root, "collector/src/cli/vigil/main.ts")], outfile: resolve(root, "collector/dist/vigil.mjs"), plugins: [externalNpm] }),
]);
