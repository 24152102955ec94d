// Preloaded (--import) into the proxy and the gateway by run.ts: the process's event-loop delay
// (perf_hooks.monitorEventLoopDelay) and its garbage-collection pauses, written to LOOP_DELAY_FILE
// and reset on each SIGUSR2.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const file = process.env.LOOP_DELAY_FILE;
if (file) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  let gcMax = 0;
  let gcTotal = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMax = Math.max(gcMax, e.duration);
      gcTotal += e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('SIGUSR2', () => {
    const ms = (ns) => ns / 1e6;
    writeFileSync(
      file,
      JSON.stringify({
        p50: ms(h.percentile(50)),
        p99: ms(h.percentile(99)),
        max: ms(h.max),
        gcMax,
        gcTotal,
        at: Date.now(),
      }),
    );
    h.reset();
    gcMax = 0;
    gcTotal = 0;
  });
}
