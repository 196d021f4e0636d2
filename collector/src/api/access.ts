// Who may call a route. Every route declares its access in its options (`config: { access: "viewer" }`); a route
// registered without one is refused when it is added, so a new route cannot ship open by accident.
import type { FastifyInstance } from "fastify";

/** The roles of API keys, weakest first: each may do all the weaker ones may. */
export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];
/** A route's access: open to anyone (`public`), or at least this role. */
export type Access = "public" | Role;
/** `/metrics`: open, or a viewer key when `metrics_auth: true`. */
export type RouteAccess = Access | "metrics";

/** Who is calling: the API key's name and role (or the open-access stand-in when keys are off). */
export interface Principal {
  /** The key's public id; null when access is open and no key was given. */
  keyId: string | null;
  name: string;
  role: Role;
}

/** A route as registered, with its access: the role table the README documents and the tests walk. */
export interface RouteEntry {
  method: string;
  url: string;
  access: RouteAccess;
}

declare module "fastify" {
  interface FastifyInstance {
    /** Every route registered so far (HEAD twins left out). */
    routeTable: RouteEntry[];
  }
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** Set by the authentication hook before any route runs; absent when the request carried no usable key. */
    principal?: Principal;
  }
}

export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** Throws while routes are added if one declares no access (fastify's HEAD twins inherit their GET's); lists them. */
export function requireRouteAccess(app: FastifyInstance): void {
  const table: RouteEntry[] = [];
  app.decorate("routeTable", table);
  app.addHook("onRoute", (route) => {
    const access = (route.config as { access?: RouteAccess } | undefined)?.access;
    if (access === undefined) throw new Error(`route ${String(route.method)} ${route.url} declares no access (config.access)`);
    for (const method of [route.method].flat()) if (method !== "HEAD") table.push({ method, url: route.url, access });
  });
}
