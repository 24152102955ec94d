// Reference app (not one of the two): a small web service that imports express and
// builds its app, no listen. Read beside the empty app: whatever any app of a few dozen modules
// pays at start anyway (V8 warming Node's own loader code) is in its bare row, not in the added.
import express from 'express';

const app = express();
app.get('/health', (_req, res) => res.send('ok'));
if (process.env.BENCH_STARTUP_CHECK) console.log(JSON.stringify({ app: 'web' }));
