import type { Response } from 'express';
import type { Logger } from 'pino';

export type Progress = (done: number, total: number, label: string) => void;

/**
 * Run a long job for an HTTP request and stream its progress as NDJSON lines:
 * {"progress":{"done":3,"total":10,"label":"…"}} … then {"result":…} or {"error":"…"}.
 * Headers go out with the first progress line, so a job that fails before any progress
 * (bad input) still gets a plain 4xx answer from `refuse`.
 */
export async function streamJob(
  res: Response,
  log: Logger,
  run: (progress: Progress) => Promise<unknown>,
  refuse: (err: Error) => { status: number; message: string } | undefined,
): Promise<void> {
  let started = false;
  const line = (obj: unknown) => res.write(`${JSON.stringify(obj)}\n`);
  const start = () => {
    if (started) return;
    started = true;
    res.status(200).set({ 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    res.flushHeaders();
  };
  try {
    const result = await run((done, total, label) => {
      start();
      line({ progress: { done, total, label } });
    });
    if (!started) {
      res.status(200).json({ result });
      return;
    }
    line({ result });
    res.end();
  } catch (err) {
    const e = err as Error;
    const refusal = refuse(e);
    if (!started) {
      if (refusal) res.status(refusal.status).json({ error: refusal.message });
      else {
        log.error({ err: e.message }, 'job failed');
        res.status(500).json({ error: e.message });
      }
      return;
    }
    log.error({ err: e.message }, 'job failed after it started');
    line({ error: refusal?.message ?? e.message });
    res.end();
  }
}
