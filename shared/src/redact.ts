// One redaction for everything printed, logged or answered: URL credentials and secret query parameters wherever
// they appear in text, the values of keys that hold secrets in structured data, and the exact secret values a
// configuration holds (also percent-encoded, JSON-escaped and base64, as servers echo them back).

export const REDACTED = "[redacted]";

// Key names (snake, kebab or camel case; header names too) whose values are secrets. `*_file` and `*_env` name where a
// secret is kept, not the secret, and stay visible.
const SECRET_KEY = /(?:^|[_.-])(?:password|passwd|pass|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|routing[_-]?key|authorization|cookie|set[_-]?cookie|credentials?|signature|webhook[_-]?url|dsn)$/i;
const SECRET_PARAM = /(?:token|key|secret|password|passwd|pwd|sig|signature|auth|credential|session)/i;

// scheme://user:password@ — the password part (user names stay: they help and are rarely secret).
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@"'<>:]*):([^\s/?#@"'<>]*)@/gi;
// ?name=value / &name=value in URLs (and form bodies), where the name says secret.
const QUERY_PARAM = /([?&;])([^=&\s#"'<>]+)=([^&\s#"'<>]*)/g;

/** Words in a key, whatever its case style ("routingKey" → "routing_key"). */
const snake = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(snake(key)) && !/(?:_file|_env|_path)$/i.test(snake(key));
}

/** Passwords and secret query parameter values in a URL (decoded and as written), and nothing when it is not a URL. */
export function urlSecrets(text: string): string[] {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || !URL.canParse(text)) return [];
  const u = new URL(text);
  const out: string[] = [];
  if (u.password) out.push(u.password, decodeURIComponent(u.password));
  for (const [k, v] of u.searchParams) if (SECRET_PARAM.test(k) && v) out.push(v, encodeURIComponent(v));
  return [...new Set(out)];
}

/** Text with URL passwords and secret query parameters replaced, without knowing any secret. */
export function redactUrls(text: string): string {
  return text
    .replace(URL_USERINFO, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`)
    .replace(QUERY_PARAM, (m, sep: string, name: string) => (SECRET_PARAM.test(name) ? `${sep}${name}=${REDACTED}` : m));
}

const MIN_SECRET = 4;
// Shorter paths ("/", "/hook") name an endpoint rather than hold a token.
const MIN_URL_PATH = 8;

export class Redactor {
  private readonly secrets = new Set<string>();
  private sorted: string[] = [];

  constructor(secrets: Iterable<string | undefined> = []) {
    for (const s of secrets) this.add(s);
  }

  /** Adds a secret value and the forms it is echoed in; values too short to be secrets are ignored. */
  add(secret: string | undefined): this {
    if (secret === undefined || secret.length < MIN_SECRET || this.secrets.has(secret)) return this;
    const forms = [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1), Buffer.from(secret, "utf8").toString("base64").replace(/=+$/, "")];
    for (const f of forms) if (f.length >= MIN_SECRET) this.secrets.add(f);
    this.sorted = [...this.secrets].sort((a, b) => b.length - a.length);
    return this;
  }

  /** Adds every secret found in a value: strings under secret keys (and URL paths under them), URL passwords and tokens. */
  collect(value: unknown, key = ""): this {
    if (typeof value === "string") {
      if (isSecretKey(key)) {
        this.add(value);
        // "Bearer TOKEN": the token alone is echoed too.
        this.add(/^[A-Za-z][\w-]*\s+(\S+)$/.exec(value)?.[1]);
        // A secret URL (a Slack webhook) carries its secret in the path, which servers echo on their own.
        const path = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) && URL.canParse(value) ? new URL(value).pathname : "";
        if (path.length >= MIN_URL_PATH) this.add(path);
      }
      for (const s of urlSecrets(value)) this.add(s);
    } else if (Array.isArray(value)) for (const v of value) this.collect(v, key);
    else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) this.collect(v, k);
    return this;
  }

  /** Text with every known secret, URL password and secret query parameter replaced. */
  text(text: string): string {
    let out = text;
    for (const s of this.sorted) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return redactUrls(out);
  }

  /** A deep copy with secret keys' string values replaced and every string redacted; other values kept. */
  value<T>(value: T, key = ""): T {
    if (typeof value === "string") return (isSecretKey(key) ? REDACTED : this.text(value)) as T;
    if (Array.isArray(value)) return value.map((v) => this.value(v, key)) as T;
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.value(v, k)])) as T;
    }
    return value;
  }
}
