import {
  closeSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { type FileHandle, open, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * The local write-ahead spool: batches appended and fsynced here are acknowledged,
 * then drained into ClickHouse in order, surviving restarts (ingest/README.md).
 *
 * On disk: segment files `seg-<n>.log`, each a sequence of records
 *   [u32 length][u32 crc32(time + payload)][f64 appendedAt ms][payload]
 * and `checkpoint.json` naming the first record not yet drained. A torn record at
 * the tail (a crash during append, never acknowledged) fails its length or crc and
 * is cut off at open. The checkpoint is written without fsync: after a crash a few
 * drained records may be drained again, which the insert tokens make harmless.
 */

const HEADER = 16;

export class SpoolFullError extends Error {
  constructor(
    readonly pendingBytes: number,
    readonly maxBytes: number,
  ) {
    super(`spool full: ${pendingBytes} of ${maxBytes} bytes pending`);
  }
}

export interface SpoolEntry {
  seq: number;
  segment: number;
  offset: number;
  /** Record size on disk, header included. */
  bytes: number;
  appendedAt: number;
}

export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  /** A segment is closed and a new one started past this size. */
  segmentBytes?: number;
}

export class Spool {
  private entries: SpoolEntry[] = [];
  private pending = 0;
  private nextSeq = 1;
  private active: { segment: number; fh: FileHandle; size: number } | undefined;
  private readers = new Map<number, FileHandle>();
  private appending: Promise<unknown> = Promise.resolve();
  private inflight: { segment: number; offset: number; count: number } | undefined;

  private constructor(
    private readonly opts: Required<SpoolOptions>,
    private lastSegment: number,
  ) {}

  /** Open the spool directory, cutting off a torn tail, and list the records still to drain. */
  static async open(options: SpoolOptions): Promise<Spool> {
    const opts = { segmentBytes: Math.max(64 * 1024, Math.min(16 * 1024 ** 2, options.maxBytes / 8)), ...options };
    mkdirSync(opts.dir, { recursive: true });
    const checkpoint = readCheckpoint(opts.dir);
    const segments = listSegments(opts.dir);
    const spool = new Spool(opts, segments.at(-1) ?? 0);
    try {
      spool.inflight = JSON.parse(readFileSync(join(opts.dir, 'inflight.json'), 'utf8'));
    } catch {
      spool.inflight = undefined;
    }
    for (const segment of segments) {
      const path = segmentPath(opts.dir, segment);
      if (segment < checkpoint.segment) {
        rmSync(path, { force: true });
        continue;
      }
      const data = await readFile(path);
      let offset = segment === checkpoint.segment ? checkpoint.offset : 0;
      while (offset + HEADER <= data.length) {
        const length = data.readUInt32LE(offset);
        const end = offset + HEADER + length;
        if (end > data.length || crc32(data.subarray(offset + 8, end)) !== data.readUInt32LE(offset + 4)) break;
        spool.entries.push({
          seq: spool.nextSeq++,
          segment,
          offset,
          bytes: HEADER + length,
          appendedAt: data.readDoubleLE(offset + 8),
        });
        spool.pending += HEADER + length;
        offset = end;
      }
      if (offset < data.length) {
        // A record cut short by a crash during its append: it was never acknowledged.
        const fd = openSync(path, 'r+');
        try {
          ftruncateSync(fd, offset);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
    }
    return spool;
  }

  get dir(): string {
    return this.opts.dir;
  }

  /** Bytes appended and not yet drained. */
  get pendingBytes(): number {
    return this.pending;
  }

  get hasRoom(): boolean {
    return this.entries.length === 0 || this.pending < this.opts.maxBytes;
  }

  get pendingRecords(): number {
    return this.entries.length;
  }

  /** Age of the oldest record not yet drained, in ms (0 when empty). */
  oldestAgeMs(now = Date.now()): number {
    const first = this.entries[0];
    return first ? Math.max(0, now - first.appendedAt) : 0;
  }

  /** Every record still to drain, oldest first. */
  list(): readonly SpoolEntry[] {
    return this.entries;
  }

  /** Append one record and fsync it. Resolves once it is durable; SpoolFullError when over the limit. */
  append(payload: Buffer): Promise<SpoolEntry> {
    const run = this.appending.then(() => this.appendNow(payload));
    this.appending = run.catch(() => undefined);
    return run;
  }

  private async appendNow(payload: Buffer): Promise<SpoolEntry> {
    const bytes = HEADER + payload.length;
    if (this.pending + bytes > this.opts.maxBytes && this.entries.length > 0) {
      throw new SpoolFullError(this.pending, this.opts.maxBytes);
    }
    if (!this.active || this.active.size >= this.opts.segmentBytes) await this.rotate();
    const active = this.active!;
    const appendedAt = Date.now();
    const header = Buffer.alloc(HEADER);
    header.writeUInt32LE(payload.length, 0);
    header.writeDoubleLE(appendedAt, 8);
    header.writeUInt32LE(crc32(payload, crc32(header.subarray(8, 16))), 4);
    const offset = active.size;
    try {
      await active.fh.writev([header, payload], offset);
      await active.fh.datasync();
    } catch (err) {
      // Whatever part of the record reached the file is cut off at the next open; start afresh.
      await this.closeActive();
      throw err;
    }
    active.size += bytes;
    const entry = { seq: this.nextSeq++, segment: active.segment, offset, bytes, appendedAt };
    this.entries.push(entry);
    this.pending += bytes;
    return entry;
  }

  /** The payload of a record not yet drained. */
  async read(entry: SpoolEntry): Promise<Buffer> {
    let fh = this.readers.get(entry.segment);
    if (!fh) {
      fh = await open(segmentPath(this.opts.dir, entry.segment), 'r');
      this.readers.set(entry.segment, fh);
    }
    const buf = Buffer.alloc(entry.bytes);
    const { bytesRead } = await fh.read(buf, 0, entry.bytes, entry.offset);
    if (bytesRead !== entry.bytes || crc32(buf.subarray(8)) !== buf.readUInt32LE(4)) {
      throw new Error(`spool record ${entry.segment}:${entry.offset} is unreadable`);
    }
    return buf.subarray(HEADER);
  }

  /**
   * The next records to drain as one insert: from the oldest, whole records up to
   * `maxBytes`. Deterministic across a crash: the group is written down (fsynced)
   * before its insert is tried, and at open the same group comes back first, so a
   * retried insert has the same rows and the same deduplication token. The write and its
   * fsync run off the event loop (one per insert, on the hot path of every request).
   */
  async nextGroup(maxBytes: number): Promise<SpoolEntry[]> {
    const head = this.entries[0];
    if (!head) return [];
    const fixed = this.inflight;
    if (fixed && fixed.segment === head.segment && fixed.offset === head.offset) {
      const group = this.entries.slice(0, fixed.count);
      if (group.length === fixed.count) return group;
    }
    const group: SpoolEntry[] = [head];
    let bytes = head.bytes;
    for (const e of this.entries.slice(1)) {
      if (bytes + e.bytes > maxBytes) break;
      group.push(e);
      bytes += e.bytes;
    }
    this.inflight = { segment: head.segment, offset: head.offset, count: group.length };
    await writeDurablyAsync(join(this.opts.dir, 'inflight.json'), JSON.stringify(this.inflight));
    return group;
  }

  /**
   * How far the group starting at `head` has been split (spool-drainer.ts), or undefined
   * when it never was. Written down before each next insert, so a crash resumes the split
   * with the same parts, and a part that landed just before the crash is deduplicated.
   */
  loadSplit<T>(head: SpoolEntry, count: number): T | undefined {
    try {
      const saved = JSON.parse(readFileSync(join(this.opts.dir, 'split.json'), 'utf8')) as {
        group?: { segment: number; offset: number; appendedAt: number; count: number };
        state?: T;
      };
      const g = saved.group;
      if (
        g?.segment === head.segment &&
        g.offset === head.offset &&
        g.appendedAt === head.appendedAt &&
        g.count === count
      )
        return saved.state;
    } catch {
      // None yet (the common case), or torn before its rename: the group starts whole again.
    }
    return undefined;
  }

  saveSplit<T>(head: SpoolEntry, count: number, state: T): void {
    const group = { segment: head.segment, offset: head.offset, appendedAt: head.appendedAt, count };
    writeDurably(join(this.opts.dir, 'split.json'), JSON.stringify({ group, state }));
  }

  clearSplit(): void {
    rmSync(join(this.opts.dir, 'split.json'), { force: true });
  }

  /**
   * Keep rows ClickHouse refused as data in `quarantine/` (fsynced: they leave the spool
   * next), for an operator to inspect, fix and send again. The same name for the same
   * rows, so a quarantine repeated after a crash overwrites rather than doubles.
   */
  quarantine(name: string, payload: string): string {
    const dir = join(this.opts.dir, 'quarantine');
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${name}.json`);
    writeDurably(path, payload);
    return path;
  }

  /** The oldest record is in ClickHouse: forget it, and delete segments fully drained. */
  async ack(entry: SpoolEntry): Promise<void> {
    const head = this.entries[0];
    if (!head || head.seq !== entry.seq) throw new Error('spool records must be acknowledged in order');
    this.entries.shift();
    this.pending -= entry.bytes;
    const next = this.entries[0];
    const checkpoint = next
      ? { segment: next.segment, offset: next.offset }
      : { segment: entry.segment, offset: entry.offset + entry.bytes };
    // Off the event loop (once per record drained); no fsync, see the class comment.
    await writeFile(join(this.opts.dir, 'checkpoint.json.tmp'), JSON.stringify(checkpoint));
    await rename(join(this.opts.dir, 'checkpoint.json.tmp'), join(this.opts.dir, 'checkpoint.json'));
    if (next?.segment !== entry.segment && entry.segment !== this.active?.segment) {
      await this.readers.get(entry.segment)?.close();
      this.readers.delete(entry.segment);
      rmSync(segmentPath(this.opts.dir, entry.segment), { force: true });
    }
  }

  async close(): Promise<void> {
    await this.appending;
    await this.closeActive();
    for (const fh of this.readers.values()) await fh.close().catch(() => undefined);
    this.readers.clear();
  }

  private async rotate(): Promise<void> {
    const previous = this.active;
    await this.closeActive();
    const segment = ++this.lastSegment;
    const fh = await open(segmentPath(this.opts.dir, segment), 'a+');
    // The new file's name must be durable too, or an fsynced record could vanish with it.
    const dirFd = openSync(this.opts.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    this.active = { segment, fh, size: 0 };
    // A segment already drained to its end is no longer needed.
    if (previous && !this.entries.some((e) => e.segment === previous.segment)) {
      rmSync(segmentPath(this.opts.dir, previous.segment), { force: true });
    }
  }

  private async closeActive(): Promise<void> {
    const active = this.active;
    this.active = undefined;
    if (active) await active.fh.close().catch(() => undefined);
  }
}

/**
 * writeDurably without the folder's fsync, off the event loop: for inflight.json, written
 * once per insert on the hot path (a kill -9 keeps the rename either way, since the page
 * cache outlives the process).
 */
async function writeDurablyAsync(path: string, text: string): Promise<void> {
  const fh = await open(`${path}.tmp`, 'w');
  try {
    await fh.writeFile(text);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(`${path}.tmp`, path);
}

/**
 * Write a file whole or not at all: temp file, fsync, rename, and fsync the
 * folder so the new name survives a power cut too.
 */
function writeDurably(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  const fd = openSync(`${path}.tmp`, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(`${path}.tmp`, path);
  const dirFd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

function segmentPath(dir: string, segment: number): string {
  return join(dir, `seg-${String(segment).padStart(12, '0')}.log`);
}

function listSegments(dir: string): number[] {
  return readdirSync(dir)
    .map((f) => /^seg-(\d{12})\.log$/.exec(f)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

function readCheckpoint(dir: string): { segment: number; offset: number } {
  try {
    const c = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as { segment?: unknown; offset?: unknown };
    if (Number.isInteger(c.segment) && Number.isInteger(c.offset))
      return { segment: c.segment as number, offset: c.offset as number };
  } catch {
    // No checkpoint yet, or a torn one: drain everything present (tokens make repeats harmless).
  }
  return { segment: 0, offset: 0 };
}
