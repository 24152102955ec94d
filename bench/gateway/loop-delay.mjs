// Preloaded (--import) into the proxy and the gateway by run.ts: the process's event-loop delay
// (perf_hooks.monitorEventLoopDelay), written to LOOP_DELAY_FILE and reset on each SIGUSR2.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.LOOP_DELAY_FILE;
if (file) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  process.on('SIGUSR2', () => {
    const ms = (ns) => ns / 1e6;
    writeFileSync(
      file,
      JSON.stringify({ p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), at: Date.now() }),
    );
    h.reset();
  });
}
