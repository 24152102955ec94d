// Reference row: the peers' common set-up with no instrumentation at all (ESM hook included).
import { registerEsmHook, startNodeSdk } from './nodesdk.mjs';

registerEsmHook('@opentelemetry/sdk-node');
startNodeSdk([]);
