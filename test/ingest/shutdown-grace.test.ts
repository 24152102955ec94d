import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestService } from '../support/inprocess.ts';

/**
 * A shutdown (SIGTERM → close()) waits for requests in flight, but only for the grace
 * (TOKENMETER_SHUTDOWN_GRACE_MS): a client still sending its body cannot hold the service for
 * the request timeout (here a minute).
 */
describe('shutdown grace', () => {
  it('cuts a client still sending its body once the grace is over', async () => {
    const svc = await startTestService('shutdown_grace', {
      TOKENMETER_SHUTDOWN_GRACE_MS: '500',
      TOKENMETER_HEADERS_TIMEOUT_MS: '60000',
      TOKENMETER_REQUEST_TIMEOUT_MS: '60000',
      TOKENMETER_STATS_INTERVAL_MS: '0',
      TOKENMETER_EVALUATE_INTERVAL_MS: '0',
    });
    // A client that sent its headers and 10 of the 1,000 bytes it announced, then nothing.
    const arrived = new Promise<void>((r) => svc.server.once('request', () => r()));
    const socket = connect(svc.port, '127.0.0.1');
    const ended = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
    });
    socket.write(
      `POST /v1/traces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN_KEY}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"resource',
    );
    await arrived;
    const started = Date.now();
    await svc.close();
    const tookMs = Date.now() - started;
    expect(await ended).toBe('');
    expect(tookMs).toBeGreaterThanOrEqual(450);
    // Far under the minute the request timeout would have allowed (store close included).
    expect(tookMs).toBeLessThan(20_000);
    console.log(JSON.stringify({ shutdownGrace: { graceMs: 500, closeTookMs: tookMs } }));
  }, 60_000);
});
