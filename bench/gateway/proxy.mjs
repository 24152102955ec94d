// The physical floor: a bare Node.js pass-through proxy (no parsing, no recording).
// /openai/<path> → http://127.0.0.1:UPSTREAM/<path>. usage: node proxy.mjs PORT UPSTREAM_PORT
import http from 'node:http';

const [port, upstream] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
http
  .createServer((req, res) => {
    const up = http.request({
      host: '127.0.0.1',
      port: upstream,
      method: req.method,
      path: req.url.replace(/^\/openai/, ''),
      headers: { ...req.headers, host: `127.0.0.1:${upstream}` },
      agent,
    });
    up.on('response', (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  })
  .listen(port, '127.0.0.1', () => process.send?.('ready'));
