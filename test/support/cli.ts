import { vi } from 'vitest';
import { main } from '../../ingest/src/cli.ts';

/** Run the real CLI entry (`tokenmeter …`) in this process with `env`; stdout and stderr captured. */
export async function runCli(
  argv: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  // The export writes bytes (Uint8Array), the rest strings.
  const text = (s: string | Uint8Array) => (typeof s === 'string' ? s : Buffer.from(s).toString());
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += text(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += text(s);
    return true;
  });
  try {
    const code = await main(argv, env);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
