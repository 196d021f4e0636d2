// Throwaway PKI for TLS/mTLS tests, made with the `openssl` CLI (no test fixture keys checked in, nothing expires
// between runs): a CA with a server certificate for 127.0.0.1/localhost and a client certificate, plus a second,
// unrelated CA with its own client certificate (to prove the collector only trusts the CA it was given).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestPki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** A server certificate for the name localhost only (no IP): dialing 127.0.0.1 verifies only as "localhost". */
  nameOnlyCert: string;
  nameOnlyKey: string;
  clientCert: string;
  clientKey: string;
  otherCa: string;
  otherClientCert: string;
  otherClientKey: string;
  remove(): void;
}

function openssl(cwd: string, args: string[]): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

// P-256 keys: generated in milliseconds, unlike RSA.
const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function makeCa(dir: string, name: string, cn: string): void {
  openssl(dir, [
    "req", "-x509", ...EC_KEY, "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "2", "-subj", `/CN=${cn}`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
}

function makeLeaf(dir: string, name: string, ca: string, cn: string, ext: string): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ["req", ...EC_KEY, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`]);
  openssl(dir, [
    "x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-set_serial", `0x${Date.now().toString(16)}${name.length}`,
    "-days", "2", "-sha256", "-extfile", `${name}.ext`, "-out", `${name}.pem`,
  ]);
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "vigil-pki-"));
  makeCa(dir, "ca", "Vigil Test CA");
  makeCa(dir, "other-ca", "Unrelated Test CA");
  // The agent dials 127.0.0.1, so the IP SAN is what gets verified; the CN alone would not be accepted.
  makeLeaf(dir, "server", "ca", "localhost", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n");
  makeLeaf(dir, "name-only", "ca", "localhost", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost\n");
  const clientExt = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n";
  makeLeaf(dir, "client", "ca", "vigil-agent", clientExt);
  makeLeaf(dir, "other-client", "other-ca", "vigil-agent", clientExt);
  const p = (f: string) => join(dir, f);
  return {
    dir,
    ca: p("ca.pem"),
    serverCert: p("server.pem"),
    serverKey: p("server.key"),
    nameOnlyCert: p("name-only.pem"),
    nameOnlyKey: p("name-only.key"),
    clientCert: p("client.pem"),
    clientKey: p("client.key"),
    otherCa: p("other-ca.pem"),
    otherClientCert: p("other-client.pem"),
    otherClientKey: p("other-client.key"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
