// Regenerates proto/gen from proto/vigil/**.proto with buf + protoc-gen-es (both from node_modules).
// `node scripts/gen-proto.mjs BASE` writes BASE/gen instead; the freshness test compares the two.
import { execFileSync } from "node:child_process";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const protoDir = resolve(dirname(fileURLToPath(import.meta.url)), "../proto");
const base = process.argv[2] ? resolve(process.argv[2]) : protoDir;
const bin = resolve(protoDir, "node_modules/.bin");
execFileSync(resolve(bin, "buf"), ["generate", "--output", base, "--template", "buf.gen.yaml"], {
  cwd: protoDir,
  stdio: "inherit",
  env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
});
