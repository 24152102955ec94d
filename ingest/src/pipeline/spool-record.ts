/**
 * What one spool record holds and how it is written: the rows of one batch, already
 * deduplicated, encoded for the spool and decoded for the drainer and for replay.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { CallRow, TraceRow } from './rows.js';

/** One spool record: the rows of one batch, already deduplicated, inserted verbatim. */
export interface SpoolBatch {
  traces: TraceRow[];
  calls: CallRow[];
}

/**
 * A spool record's payload: 'Z' + the batch as JSON, deflated at the fastest level. The
 * rows of one service repeat most of their text, so a record is about a tenth of its JSON
 * and the spool holds ten times the outage. 'J' + plain JSON is read too.
 */
export function encodeRecord(batch: SpoolBatch): Buffer {
  return Buffer.concat([Buffer.from('Z'), deflateRawSync(JSON.stringify(batch), { level: 1 })]);
}

export function decodeRecord(payload: Buffer): SpoolBatch {
  const body = payload.subarray(1);
  const json = payload[0] === 0x5a ? inflateRawSync(body) : body;
  return JSON.parse(json.toString('utf8')) as SpoolBatch;
}
