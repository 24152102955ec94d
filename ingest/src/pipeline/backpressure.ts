/**
 * The one refusal the receiver turns into 503 + Retry-After: raised by the writer (queue
 * full, closing, spool full) and by dedup (ClickHouse cannot vouch for older spans).
 */

/** The service cannot take this batch now; the client should retry after `retryAfterS`. */
export class BackpressureError extends Error {
  constructor(
    message: string,
    readonly reason: 'spool_full' | 'queue_full' | 'storage_unavailable' | 'closing',
    readonly retryAfterS: number,
  ) {
    super(message);
  }
}
