// Builds the shipped binaries with esbuild:
//   agent/dist/vigil-agent.mjs         one self-contained file: a host needs only `node` to run it
//   collector/dist/vigil-collector.mjs workspace code bundled; npm dependencies (PGlite's wasm, pg, fastify) stay in node_modules
import { build } from "esbuild";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
// Bundled CommonJS dependencies (grpc-js, pino) call require(); give the ESM bundle one.
const banner = { js: "import { createRequire as __vigilCreateRequire } from 'node:module'; const require = __vigilCreateRequire(import.meta.url);" };
const common = { bundle: true, platform: "node", format: "esm", target: "node20", sourcemap: "linked", banner, logLevel: "warning" };

const externalNpm = {
  name: "external-npm",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith("@vigil/") || args.path.startsWith("node:") ? undefined : { path: args.path, external: true }));
  },
};

await Promise.all([
  build({ ...common, entryPoints: [resolve(root, "agent/src/main.ts")], outfile: resolve(root, "agent/dist/vigil-agent.mjs") }),
  build({ ...common, entryPoints: [resolve(root, "collector/src/main.ts")], outfile: resolve(root, "collector/dist/vigil-collector.mjs"), plugins: [externalNpm] }),
]);
