// OpenLIT: its own zero-code entry (`openlit/register`, its own SDK set-up), after the ESM hook
// of its copy of import-in-the-middle, which it does not register itself.
import { registerEsmHook } from './nodesdk.mjs';

registerEsmHook('openlit');
await import('openlit/register');
