import { vi } from 'vitest';
import { main } from '../../ingest/src/cli.ts';

/** Run the real CLI entry (`tokenmeter …`) in this process with `env`; stdout and stderr captured. */
export async function runCli(
  argv: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
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
