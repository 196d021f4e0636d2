import { readFileSync, statfsSync } from "node:fs";
import { join } from "node:path";
import type { SourceOptions } from "./procfs.js";
import type { MetricSource, Sample } from "./types.js";

/** The fields of statfs(2) this source uses; `fs.statfsSync` results fit it. */
export interface StatfsResult {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

export interface FilesystemOptions extends SourceOptions {
  statfs?: (path: string) => StatfsResult;
}

export interface Mount {
  device: string;
  mountpoint: string;
  type: string;
}

/** Kernel and virtual filesystems with no disk space worth reporting. overlay stays: it is a container's root. */
const PSEUDO = new Set([
  "proc", "sysfs", "tmpfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "squashfs", "nsfs", "autofs",
  "mqueue", "debugfs", "tracefs", "securityfs", "pstore", "bpf", "configfs", "fusectl", "hugetlbfs",
  "binfmt_misc", "rpc_pipefs", "ramfs", "efivarfs", "selinuxfs", "nfsd",
]);

/** Filesystem space and inode usage for every real mount in /proc/self/mounts. */
export class FilesystemSource implements MetricSource {
  readonly name = "filesystem";
  private readonly mountsPath: string;
  private readonly statfs: (path: string) => StatfsResult;
  private lastText: string | undefined;
  private mounts: Mount[] = [];

  constructor(opts: FilesystemOptions = {}) {
    this.mountsPath = join(opts.procRoot ?? "/proc", "self", "mounts");
    this.statfs = opts.statfs ?? ((path) => statfsSync(path));
  }

  collect(_nowMs: number): Sample[] {
    const text = readFileSync(this.mountsPath, "utf8");
    // Mounts rarely change, so re-parse only when the table does.
    if (text !== this.lastText) {
      this.mounts = parseMounts(text);
      this.lastText = text;
    }
    const out: Sample[] = [];
    for (const m of this.mounts) {
      let st: StatfsResult;
      try {
        st = this.statfs(m.mountpoint);
      } catch {
        continue; // stale NFS handle, vanished or unreadable mount: skip it, never fail the tick
      }
      if (st.blocks <= 0) continue; // like df, hide filesystems that report no size at all
      const { device, mountpoint, type } = m;
      const free = st.bavail * st.bsize;
      const reserved = Math.max(0, st.bfree - st.bavail) * st.bsize;
      const used = Math.max(0, st.blocks - st.bfree) * st.bsize;
      const usage = "system.filesystem.usage";
      const inodes = "system.filesystem.inodes.usage";
      out.push(
        { metric: usage, labels: { device, mountpoint, type, state: "used" }, value: used },
        { metric: usage, labels: { device, mountpoint, type, state: "free" }, value: free },
        { metric: usage, labels: { device, mountpoint, type, state: "reserved" }, value: reserved },
        // Reserved blocks are excluded from the denominator so this matches df's Use%.
        { metric: "system.filesystem.utilization", labels: { device, mountpoint, type }, value: used + free > 0 ? used / (used + free) : 0 },
        { metric: inodes, labels: { device, mountpoint, type, state: "used" }, value: Math.max(0, st.files - st.ffree) },
        { metric: inodes, labels: { device, mountpoint, type, state: "free" }, value: st.ffree },
      );
    }
    return out;
  }
}

/** Real mounts, one per mountpoint, from the text of /proc/self/mounts. */
export function parseMounts(text: string): Mount[] {
  const byPath = new Map<string, Mount>();
  for (const line of text.split("\n")) {
    const [device, mountpoint, type] = line.split(" ", 3);
    if (!device || !mountpoint || !type) continue;
    const m = { device: unescapeOctal(device), mountpoint: unescapeOctal(mountpoint), type };
    // Last wins: a later mount on the same path hides the earlier one and is what statfs sees.
    byPath.set(m.mountpoint, m);
  }
  return [...byPath.values()].filter((m) => !PSEUDO.has(m.type) && !m.type.startsWith("fuse."));
}

/** The kernel writes space, tab, newline and backslash in mount fields as \ooo octal. */
function unescapeOctal(s: string): string {
  if (!s.includes("\\")) return s;
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}
