import { readFileSync } from "node:fs";
import os from "node:os";

export interface HostFacts {
  agentId: string;
  hostname: string;
  os: string;
  kernel: string;
  cpuCount: number;
  bootTimeMs: number;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Facts sent once in Hello; read from the OS directly (cheaper than spawning tools). */
export function hostFacts(): HostFacts {
  const release = read("/etc/os-release");
  const pretty = release ? /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release)?.[1] : undefined;
  return {
    agentId: read("/etc/machine-id")?.trim() || os.hostname(),
    hostname: os.hostname(),
    os: pretty ?? `${os.type()} ${os.release()}`,
    kernel: os.release(),
    cpuCount: os.availableParallelism(),
    bootTimeMs: Date.now() - os.uptime() * 1000,
  };
}
