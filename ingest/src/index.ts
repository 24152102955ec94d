export { createApp } from './app.js';
export { readConfig, ENV_VARS, type Config } from './config.js';
export { startServer, type Running } from './server.js';
export { openStore, insertSettings, readOnlySettings, type Store } from './store/client.js';
export { migrate, renderMigration, loadMigrations } from './store/migrate.js';
export { decodeTraces, encodeResponse, decodeResponse, encodingOf } from './otlp/decode.js';
