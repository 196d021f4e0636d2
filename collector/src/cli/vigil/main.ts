// Entry of the `vigil` binary (bundled to collector/dist/vigil.mjs).
import { run } from "./run.js";

// Piped into `head`: a closed stdout is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
