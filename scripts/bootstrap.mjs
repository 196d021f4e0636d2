// Installs the workspace's dependencies when they are missing or stale, with the pinned pnpm,
// so `npm start` / `npm test` work on a machine that has only Node 20 and npm.
import { execFileSync, execSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const [major] = process.versions.node.split(".").map(Number);
if (major < 20) {
  console.error(`vigil needs Node.js 20 or newer; this is ${process.version}`);
  process.exit(1);
}
const marker = resolve(root, "node_modules/.modules.yaml");
const lock = resolve(root, "pnpm-lock.yaml");
if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) process.exit(0);

const pnpmVersion = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8")).packageManager.split("@")[1];
let hasPnpm = false;
try {
  hasPnpm = execFileSync("pnpm", ["--version"], { encoding: "utf8" }).trim() === pnpmVersion;
} catch {
  hasPnpm = false;
}
const cmd = hasPnpm ? "pnpm install --frozen-lockfile" : `npx --yes pnpm@${pnpmVersion} install --frozen-lockfile`;
console.error(`vigil: installing dependencies (${cmd})`);
execSync(cmd, { cwd: root, stdio: "inherit" });
