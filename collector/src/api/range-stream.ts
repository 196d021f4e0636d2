import { Readable } from "node:stream";
import type { RangeSeries } from "./ports.js";

/**
 * The range answer `{"series":[…]}` as a stream, serialized one series at a time as storage yields them: an answer of
 * any size holds one chunk in memory. The first series is read before the stream is made, so a failure up to there
 * is an ordinary error answer; a later one (the status is sent by then) goes to `onFailure`, which must cut the
 * connection so the client cannot take the truncated body for a whole one.
 */
export async function rangeAnswer(series: AsyncIterable<RangeSeries>, onFailure: (err: unknown) => void): Promise<Readable> {
  const it = series[Symbol.asyncIterator]();
  const first = await it.next();
  async function* body(): AsyncGenerator<string> {
    try {
      yield '{"series":[';
      let sep = "";
      for (let r = first; !r.done; r = await it.next()) {
        const { metric, labels, pointsJson } = r.value;
        yield `${sep}{"metric":${JSON.stringify(metric)},"labels":${JSON.stringify(labels)},"points":${pointsJson}}`;
        sep = ",";
      }
      yield "]}";
    } catch (err) {
      onFailure(err);
    } finally {
      await it.return?.();
    }
  }
  return Readable.from(body());
}
