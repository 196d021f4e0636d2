import { CpuSource } from "./cpu.js";
import { DiskSource } from "./disk.js";
import { FilesystemSource, type FilesystemOptions } from "./filesystem.js";
import { MemorySource } from "./memory.js";
import { NetworkSource } from "./network.js";
import { SystemSource } from "./system.js";
import type { MetricSource } from "./types.js";

export { CpuSource, DiskSource, FilesystemSource, MemorySource, NetworkSource, SystemSource };
export { parseMounts, type FilesystemOptions, type Mount, type StatfsResult } from "./filesystem.js";
export type { SourceOptions } from "./procfs.js";
export type { MetricSource, Sample } from "./types.js";

/** Every host source, reading the real /proc and /sys unless told otherwise. */
export function defaultSources(opts: FilesystemOptions = {}): MetricSource[] {
  return [
    new CpuSource(opts),
    new MemorySource(opts),
    new FilesystemSource(opts),
    new DiskSource(opts),
    new NetworkSource(opts),
    new SystemSource(opts),
  ];
}
