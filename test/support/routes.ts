import type { Server } from 'node:http';
import type { Express } from 'express';

/** Every route a running app serves, as 'METHOD /path', read from the express router itself. */
export function appRoutes(server: Server): string[] {
  const app = server.listeners('request')[0] as Express & { router: { stack: Layer[] } };
  interface Layer {
    route?: { path: string; methods: Record<string, boolean> };
    handle?: { stack?: Layer[] };
  }
  const out = new Set<string>();
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const m of Object.keys(layer.route.methods))
          if (m !== '_all') out.add(`${m.toUpperCase()} ${layer.route.path}`);
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk(app.router.stack);
  return [...out].sort();
}
