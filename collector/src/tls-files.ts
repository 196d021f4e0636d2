// Certificate and key files named in the config, read once at start: an unreadable file, or a key that does not
// belong to its certificate, stops the collector with a message naming the setting, not at the first handshake.
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import { CollectorError, CollectorErrors } from "./errors.js";

/** A PEM file; `setting` names it in errors (e.g. "http_tls.cert"). */
export function readPemFile(path: string, setting: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new CollectorError(CollectorErrors.BAD_CONFIG, `${setting}: cannot read ${path} (${e.code ?? e.message})`);
  }
}

/** The certificate chain and private key under `section` (tls, http_tls), checked to belong together. */
export function readKeyPair(section: string, certPath: string, keyPath: string): { cert: Buffer; key: Buffer } {
  const cert = readPemFile(certPath, `${section}.cert`);
  const key = readPemFile(keyPath, `${section}.key`);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    // OpenSSL's reason ("key values mismatch", "no start line") names no key material.
    throw new CollectorError(CollectorErrors.BAD_CONFIG, `${section}.key: not the private key of ${section}.cert, or not PEM (${(err as Error).message})`);
  }
  return { cert, key };
}
