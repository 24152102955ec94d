import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool, SpoolFullError } from './spool.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tm-spool-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const text = async (spool: Spool) => Promise.all(spool.list().map(async (e) => (await spool.read(e)).toString()));

describe('Spool', () => {
  it('keeps appended records across a reopen, in order, until acknowledged', async () => {
    const dir = tempDir();
    const a = await Spool.open({ dir, maxBytes: 1024 * 1024 });
    for (const s of ['one', 'two', 'three']) await a.append(Buffer.from(s));
    await a.ack(a.list()[0]!);
    await a.close();
    const b = await Spool.open({ dir, maxBytes: 1024 * 1024 });
    expect(await text(b)).toEqual(['two', 'three']);
    expect(b.pendingBytes).toBe(2 * 16 + 'two'.length + 'three'.length);
    await b.close();
  });

  it('cuts off a torn tail (a crash during an append, never acknowledged)', async () => {
    const dir = tempDir();
    const a = await Spool.open({ dir, maxBytes: 1024 * 1024 });
    await a.append(Buffer.from('whole'));
    await a.close();
    const segment = readdirSync(dir).find((f) => f.startsWith('seg-'))!;
    appendFileSync(join(dir, segment), Buffer.from([200, 0, 0, 0, 1, 2, 3]));
    const b = await Spool.open({ dir, maxBytes: 1024 * 1024 });
    expect(await text(b)).toEqual(['whole']);
    await b.append(Buffer.from('after'));
    await b.close();
    const c = await Spool.open({ dir, maxBytes: 1024 * 1024 });
    expect(await text(c)).toEqual(['whole', 'after']);
    await c.close();
  });

  it('refuses an append past its limit, and takes it once there is room', async () => {
    const dir = tempDir();
    const spool = await Spool.open({ dir, maxBytes: 100 });
    await spool.append(Buffer.alloc(60));
    await expect(spool.append(Buffer.alloc(60))).rejects.toBeInstanceOf(SpoolFullError);
    await spool.ack(spool.list()[0]!);
    await spool.append(Buffer.alloc(60));
    expect(spool.pendingRecords).toBe(1);
    await spool.close();
  });

  it('deletes segments once drained, and drains in the same groups after a crash', async () => {
    const dir = tempDir();
    const a = await Spool.open({ dir, maxBytes: 10 * 1024 * 1024, segmentBytes: 64 * 1024 });
    for (let i = 0; i < 40; i++) await a.append(Buffer.alloc(10_000, i));
    expect(readdirSync(dir).filter((f) => f.startsWith('seg-')).length).toBeGreaterThan(3);
    const group = await a.nextGroup(50_000);
    expect(group.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    // Crash before the group is acknowledged: more records arrive after the restart.
    const b = await Spool.open({ dir, maxBytes: 10 * 1024 * 1024, segmentBytes: 64 * 1024 });
    expect((await b.nextGroup(1_000_000)).length).toBe(4);
    for (const e of b.list().slice()) await b.ack(e);
    await b.close();
    expect(readdirSync(dir).filter((f) => f.startsWith('seg-')).length).toBeLessThanOrEqual(1);
    const c = await Spool.open({ dir, maxBytes: 10 * 1024 * 1024 });
    expect(c.pendingRecords).toBe(0);
    await c.close();
  });
});
