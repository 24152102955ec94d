// The empty app: what loading the instrumentation alone costs a process that makes no AI call.
if (process.env.BENCH_STARTUP_CHECK) console.log(JSON.stringify({ app: 'empty' }));
