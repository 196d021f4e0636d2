import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { z } from "zod";
import { createDiskWritableCheck, diskWritableCheckSchema } from "../src/checks/disk-writable.js";
import { createFileAgeCheck, fileAgeCheckSchema } from "../src/checks/file-age.js";
import { createProcessCheck, processCheckSchema } from "../src/checks/process.js";
import { createSystemdCheck, evaluateUnits, NO_SYSTEMD_MESSAGE, parseSystemctlShow, systemdCheckSchema } from "../src/checks/systemd.js";
import type { CheckCommon, CheckOutcome } from "../src/checks/types.js";

const common = (kind: string): CheckCommon => ({ name: `t-${kind}`, kind, intervalMs: 10_000, timeoutMs: 5_000 });
const live = () => new AbortController().signal;
const metric = (o: CheckOutcome, name: string): number | undefined => o.metrics?.find((m) => m.metric === name)?.value;
const tmp = (): string => mkdtempSync(join(tmpdir(), "vigil-checks-"));

function procCheck(input: Omit<z.input<typeof processCheckSchema>, "kind">) {
  return createProcessCheck(common("process"), processCheckSchema.parse({ kind: "process", ...input }));
}
function fileCheck(input: Omit<z.input<typeof fileAgeCheckSchema>, "kind">) {
  return createFileAgeCheck(common("file_age"), fileAgeCheckSchema.parse({ kind: "file_age", ...input }));
}
async function started(child: ChildProcess): Promise<number> {
  await new Promise<void>((resolve, reject) => child.once("spawn", resolve).once("error", reject));
  await sleep(100); // let exec finish so comm/cmdline are the new program's
  return child.pid ?? assert.fail("no pid");
}
async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

test("systemd: on a host without systemd as init, a clear degraded message, no throw", { skip: existsSync("/run/systemd/system") && "systemd runs here" }, async () => {
  const check = createSystemdCheck(common("systemd"), systemdCheckSchema.parse({ kind: "systemd", units: ["nginx.service", "foo.service"] }));
  const out = await check.run(live());
  assert.deepEqual(out, { status: "degraded", message: NO_SYSTEMD_MESSAGE });
  assert.equal(NO_SYSTEMD_MESSAGE, "systemd is not running on this host; cannot check units");
  await assert.rejects(check.run(AbortSignal.abort()), { name: "AbortError" });
});

test("systemd: systemctl show output → per-unit status, messages and metrics", () => {
  const text = "ActiveState=active\nSubState=running\nLoadState=loaded\n\nLoadState=loaded\nActiveState=failed\nSubState=failed\n\n" +
    "LoadState=not-found\nActiveState=inactive\nSubState=dead\n";
  const out = evaluateUnits(["sshd.service", "nginx.service", "foo.service"], parseSystemctlShow(text));
  assert.equal(out.status, "unhealthy");
  assert.equal(out.message, "nginx.service is failed (failed); foo.service not found");
  assert.deepEqual(out.metrics?.map((m) => [m.labels?.unit, m.value]), [["sshd.service", 1], ["nginx.service", 0], ["foo.service", 0]]);
  assert.equal(evaluateUnits(["sshd.service"], parseSystemctlShow(text.split("\n\n")[0]!)).status, "healthy");
  assert.throws(() => evaluateUnits(["a.service"], []), /described 0 units/);
  assert.equal(systemdCheckSchema.safeParse({ kind: "systemd", units: ["--force"] }).success, false);
});

test("process: a real child by cmdline is healthy with rss, then unhealthy once killed", async () => {
  const marker = `vigil-marker-${randomBytes(4).toString("hex")}`;
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", marker], { stdio: "ignore" });
  await started(child);
  const check = procCheck({ cmdline_contains: marker });
  const up = await check.run(live());
  assert.equal(up.status, "healthy", up.message);
  assert.equal(metric(up, "vigil.check.process.count"), 1);
  assert.ok((metric(up, "vigil.check.process.rss") ?? 0) > 1024 * 1024, "rss of a node child is over 1 MiB");
  assert.equal(metric(up, "vigil.check.process.cpu"), undefined, "no cpu on the first run");
  await kill(child);
  const down = await check.run(live());
  assert.equal(down.status, "unhealthy");
  assert.equal(down.message, `0 processes with command line containing "${marker}" running (minimum 1)`);
  assert.equal(metric(down, "vigil.check.process.cpu"), 0);
});

test("process: by comm name (long names truncated like the kernel), max_count → degraded", async () => {
  const dir = tmp();
  const name = `vigil-sleep-${randomBytes(3).toString("hex")}`; // 18 chars: comm holds the first 15
  copyFileSync("/usr/bin/sleep", join(dir, name));
  chmodSync(join(dir, name), 0o755);
  const kids = [spawn(join(dir, name), ["300"], { stdio: "ignore" }), spawn(join(dir, name), ["300"], { stdio: "ignore" })];
  try {
    await Promise.all(kids.map(started));
    const two = await procCheck({ process_name: name, max_count: 1 }).run(live());
    assert.equal(two.status, "degraded");
    assert.equal(two.message, `2 processes named "${name}" running (maximum 1)`);
    assert.equal((await procCheck({ process_name: name, min_count: 2 }).run(live())).status, "healthy");
    await Promise.all(kids.map(kill));
    assert.equal((await procCheck({ process_name: name }).run(live())).message, `0 processes named "${name}" running (minimum 1)`);
  } finally {
    for (const k of kids) k.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("process: cpu is the fraction of a core used since the previous run", async () => {
  const marker = `vigil-busy-${randomBytes(4).toString("hex")}`;
  const child = spawn(process.execPath, ["-e", "for (;;) {}", marker], { stdio: "ignore" });
  try {
    await started(child);
    const check = procCheck({ cmdline_contains: marker });
    await check.run(live());
    await sleep(500);
    const cpu = metric(await check.run(live()), "vigil.check.process.cpu") ?? -1;
    assert.ok(cpu > 0.3 && cpu < 1.5, `busy loop uses about one core, got ${cpu}`);
  } finally {
    await kill(child);
  }
});

test("process: pidfile, and config that selects nothing is refused", async () => {
  const dir = tmp();
  const pidfile = join(dir, "x.pid");
  const child = spawn("sleep", ["300"], { stdio: "ignore" });
  const pid = await started(child);
  writeFileSync(pidfile, `${pid}\n`);
  const check = procCheck({ pidfile });
  assert.equal((await check.run(live())).message, `1 process from pidfile ${pidfile} running`);
  await kill(child);
  const gone = await check.run(live());
  assert.equal(gone.status, "unhealthy");
  assert.equal(gone.message, `0 processes from pidfile ${pidfile} running (minimum 1): pid ${pid} is not running`);
  const missing = await procCheck({ pidfile: join(dir, "nope.pid") }).run(live());
  assert.match(missing.message, /cannot read pidfile: ENOENT/);
  assert.throws(() => procCheck({}), /set process_name, cmdline_contains or pidfile/);
  assert.throws(() => procCheck({ process_name: "x", min_count: 3, max_count: 2 }), /max_count: must be at least min_count/);
  await assert.rejects(check.run(AbortSignal.abort()), { name: "AbortError" });
  rmSync(dir, { recursive: true, force: true });
});

test("file_age: newest matching file's age and size, against max_age and min_size", async () => {
  const dir = tmp();
  const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
  for (const [n, h] of [["db-1.dump", 50], ["db-3.dump", 26], ["db-2.dump", 30], ["other.txt", 0]] as const) {
    writeFileSync(join(dir, n), "x".repeat(2048));
    utimesSync(join(dir, n), hoursAgo(h), hoursAgo(h));
  }
  const pattern = join(dir, "db-*.dump");
  const old = await fileCheck({ path: pattern, max_age: "24h" }).run(live());
  assert.equal(old.status, "unhealthy");
  assert.equal(old.message, "newest file db-3.dump is 26h old (max 24h)");
  assert.ok(Math.abs((metric(old, "vigil.check.file_age.age") ?? 0) - 26 * 3600) < 60);
  assert.equal(metric(old, "vigil.check.file_age.size"), 2048);
  assert.equal((await fileCheck({ path: pattern, max_age: "48h" }).run(live())).status, "healthy");
  const dirCheck = await fileCheck({ path: dir, max_age: "1h" }).run(live());
  assert.equal(dirCheck.status, "healthy", "a directory: its newest file, other.txt, is fresh");
  assert.match(dirCheck.message, /^newest file other\.txt is \d+s old, 2 KiB$/);
  const small = await fileCheck({ path: join(dir, "other.txt"), max_age: "1h", min_size: "1MiB" }).run(live());
  assert.equal(small.status, "unhealthy");
  assert.equal(small.message, "newest file other.txt is 2 KiB (min 1 MiB)");
  const none = await fileCheck({ path: join(dir, "db-*.bak"), max_age: "1h" }).run(live());
  assert.deepEqual(none, { status: "unhealthy", message: `no file matches ${join(dir, "db-*.bak")}` });
  assert.equal((await fileCheck({ path: "/nonexistent/vigil/x", max_age: "1h" }).run(live())).status, "unhealthy");
  assert.equal(fileAgeCheckSchema.safeParse({ kind: "file_age", path: "/var/*/x", max_age: "1h" }).success, false);
  rmSync(dir, { recursive: true, force: true });
});

test("file_age: abort stops between stats", async () => {
  const dir = tmp();
  for (let i = 0; i < 500; i++) writeFileSync(join(dir, `f${i}`), "");
  const check = fileCheck({ path: dir, max_age: "1h" });
  await assert.rejects(check.run(AbortSignal.abort()), { name: "AbortError" });
  const ac = new AbortController();
  const running = check.run(ac.signal);
  setImmediate(() => ac.abort());
  await assert.rejects(running, { name: "AbortError" });
  rmSync(dir, { recursive: true, force: true });
});

test("disk_writable: a temp dir is writable and left clean; errors are named", async () => {
  const dir = tmp();
  const check = (d: string) => createDiskWritableCheck(common("disk_writable"), diskWritableCheckSchema.parse({ kind: "disk_writable", dir: d }));
  const ok = await check(dir).run(live());
  assert.equal(ok.status, "healthy", ok.message);
  assert.ok((metric(ok, "vigil.check.disk_writable.latency") ?? -1) >= 0);
  assert.deepEqual(readdirSync(dir), [], "no file left behind");
  const bad = await check("/dev/null/x").run(live());
  assert.equal(bad.status, "unhealthy");
  assert.match(bad.message, /^\/dev\/null\/x is not writable: ENOTDIR: not a directory, open '\/dev\/null\/x\/\.vigil-check-\d+-[0-9a-f]{12}'$/);
  const proc = await check("/proc").run(live());
  assert.equal(proc.status, "unhealthy");
  assert.match(proc.message, /^\/proc is not writable: E[A-Z]+: .*'\/proc\/\.vigil-check-/);
  await assert.rejects(check(dir).run(AbortSignal.abort()), { name: "AbortError" });
  assert.deepEqual(readdirSync(dir), []);
  rmSync(dir, { recursive: true, force: true });
});
