// Item 8: an ack with a NUL in its comment answered 200 while the store failed; re-acks added an event each; comments
// could be 1 MiB; an alert's events came back all at once (6.3 MB). Input is checked first (400 naming the field),
// a store failure is the caller's error (503) with the in-memory state unchanged, re-acks are idempotent, and events
// come in bounded pages.
import assert from "node:assert/strict";
import type { HostileContext, HostileItem } from "../harness.js";
import { deleteRule, errorOf, firingAlert, putRule, type AlertJson } from "../alerting-helpers.js";

const RULE = "hostile-08-uptime";
type EventJson = { id: string; kind: string; message: string };
type Detail = AlertJson & { events: EventJson[]; eventsBefore: string | null };

async function refused(ctx: HostileContext, id: string, action: string, body: unknown, field: string): Promise<void> {
  const r = await ctx.http("POST", `/api/v1/alerts/${id}/${action}`, body);
  assert.equal(r.status, 400, `${action} ${JSON.stringify(body).slice(0, 100)}: ${r.status} ${r.text.slice(0, 300)}`);
  const e = errorOf(r);
  assert.equal(e.code, "VGL_ERR_BAD_PARAM");
  assert.ok(e.message.startsWith(`${field}:`), `message names ${field}: ${e.message}`);
}

async function allEvents(ctx: HostileContext, id: string): Promise<EventJson[]> {
  const out: EventJson[] = [];
  let before: string | null = null;
  for (let page = 0; page < 100; page++) {
    const r = await ctx.http("GET", `/api/v1/alerts/${id}/events?limit=50${before ? `&before=${before}` : ""}`);
    assert.equal(r.status, 200, r.text);
    const body = r.json as { events: EventJson[]; next: string | null };
    assert.ok(body.events.length <= 50);
    out.unshift(...body.events);
    if (!body.next) return out;
    before = body.next;
  }
  assert.fail("more than 100 pages");
}

export const item: HostileItem = {
  title: "8. acks: input checked, store failures reported and rolled back, repeats idempotent, events paginated",
  async run(ctx) {
    await putRule(ctx, RULE, { kind: "threshold", metric: "system.uptime", critical: { op: ">", value: 0 } });
    const { id } = await firingAlert(ctx, RULE);
    const detail = async (): Promise<Detail> => (await ctx.http("GET", `/api/v1/alerts/${id}`)).json as Detail;

    await refused(ctx, id, "ack", { by: "eve", comment: "a\u0000b" }, "comment");
    await refused(ctx, id, "ack", { by: "eve", comment: "bell\u0007" }, "comment");
    await refused(ctx, id, "ack", { by: "eve", comment: "c".repeat(1001) }, "comment");
    await refused(ctx, id, "ack", { by: "e".repeat(101) }, "by");
    await refused(ctx, id, "ack", { by: "e\u0000ve" }, "by");
    await refused(ctx, id, "ack", { by: 5 }, "by");
    await refused(ctx, id, "unack", { by: "e\nve" }, "by");
    await refused(ctx, id, "resolve", { by: "" }, "by");
    assert.equal((await detail()).acknowledged, null, "nothing was acknowledged by refused requests");

    const first = await ctx.http("POST", `/api/v1/alerts/${id}/ack`, { by: "alice", comment: "looking\nline two" });
    assert.equal(first.status, 200, first.text);
    const acked = (first.json as AlertJson).acknowledged;
    assert.equal(acked?.by, "alice");
    for (let i = 0; i < 3; i++) {
      const again = await ctx.http("POST", `/api/v1/alerts/${id}/ack`, { by: "bob", comment: "me too" });
      assert.equal(again.status, 200, again.text);
      assert.deepEqual((again.json as AlertJson).acknowledged, acked, "a re-ack answers the standing acknowledgement");
    }
    assert.equal((await allEvents(ctx, id)).filter((e) => e.kind === "acknowledged").length, 1, "re-acks add no event");

    if (ctx.pg) {
      // The store refuses the next transition: the caller hears it, and the collector's state does not move.
      await ctx.pg.query(`CREATE FUNCTION hostile_08_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hostile 08: store refuses'; END $$`);
      await ctx.pg.query(`CREATE TRIGGER hostile_08 BEFORE INSERT ON alert_events FOR EACH ROW WHEN (NEW.kind = 'unacknowledged') EXECUTE FUNCTION hostile_08_fail()`);
      try {
        const r = await ctx.http("POST", `/api/v1/alerts/${id}/unack`, { by: "mallory" });
        assert.equal(r.status, 503, r.text);
        assert.equal(errorOf(r).code, "VGL_ERR_STORAGE_UNAVAILABLE");
      } finally {
        await ctx.pg.query(`DROP TRIGGER hostile_08 ON alert_events`);
        await ctx.pg.query(`DROP FUNCTION hostile_08_fail()`);
      }
      assert.equal((await detail()).acknowledged?.by, "alice", "the store still says acknowledged");
      // Had memory drifted (unacknowledged there but not in the store), this unack would be a silent no-op.
      const r = await ctx.http("POST", `/api/v1/alerts/${id}/unack`, { by: "carol" });
      assert.equal(r.status, 200, r.text);
      assert.equal((r.json as AlertJson).acknowledged, null);
      assert.equal((await allEvents(ctx, id)).filter((e) => e.kind === "unacknowledged").length, 1);
    }

    // Many events: the alert's detail carries the latest 100, the rest come page by page.
    for (let i = 0; i < 80; i++) {
      assert.equal((await ctx.http("POST", `/api/v1/alerts/${id}/ack`, { by: "alice", comment: `round ${i}` })).status, 200);
      assert.equal((await ctx.http("POST", `/api/v1/alerts/${id}/unack`, { by: "alice" })).status, 200);
    }
    const d = await detail();
    assert.equal(d.events.length, 100);
    assert.ok(d.eventsBefore, "a cursor to older events");
    assert.equal(d.events.at(-1)!.kind, "unacknowledged", `the latest events, oldest first: ${JSON.stringify(d.events.slice(-4))}`);
    const all = await allEvents(ctx, id);
    assert.ok(all.length > 160, `${all.length} events`);
    assert.deepEqual(all.slice(-100).map((e) => e.id), d.events.map((e) => e.id));
    assert.equal(new Set(all.map((e) => e.id)).size, all.length, "pages do not overlap");
    const older = await ctx.http("GET", `/api/v1/alerts/${id}?limit=10&before=${d.eventsBefore}`);
    assert.equal(older.status, 200, older.text);
    assert.equal((older.json as Detail).events.length, 10);
    for (const q of ["limit=0", "limit=100000", "limit=x", "before=abc", "before=-1"]) {
      const r = await ctx.http("GET", `/api/v1/alerts/${id}/events?${q}`);
      assert.equal(r.status, 400, `${q}: ${r.text}`);
      assert.equal(errorOf(r).code, "VGL_ERR_BAD_PARAM");
    }
    await deleteRule(ctx, RULE);
  },
};
