// `--import` before tokenmeter's register: an ESM loader hook that writes each URL loaded through
// the ESM loader to LOADED_URLS_FILE (a test helper; its own loader thread is not tokenmeter's).
import { register } from 'node:module';

const hook = `
import { appendFileSync } from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function load(url, context, next) {
  appendFileSync(file, url + '\\n');
  return next(url, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`, import.meta.url, {
  data: { file: process.env.LOADED_URLS_FILE },
});
