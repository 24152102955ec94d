import { recordFault } from '../core/faults.js';

/**
 * Vercel `ai` agents: `ToolLoopAgent` (ai 6+, also exported as `Experimental_Agent`) and ai 5's
 * `Experimental_Agent`. Their `generate()` and `stream()` call ai's internal generateText and
 * streamText, not the exported ones we wrap, with the settings the agent holds
 * (`this.settings`: model, maxRetries, prepareStep, prepareCall, …). So each call runs against a
 * per-call view of the agent whose settings are instrumented as the wrapped entry points
 * instrument their options: the model wrapped, string ids resolved, and one set of retry
 * holds for this call. Nothing of ai is re-implemented and the agent itself is not changed.
 * (ai 6's ToolLoopAgent is tested; ai 5's Agent reads `this.settings` the same way in its
 * source, but no ai 5 is installed here to test it.)
 */
const AGENT_CLASSES = ['ToolLoopAgent', 'Experimental_Agent'] as const;
const AGENT_METHODS = ['generate', 'stream'] as const;

/** The options of one generateText/streamText call, instrumented (vercel-ai.ts's instrumentOptions). */
export type InstrumentCall = (options: any) => any;

/** Patch the agent classes' generate/stream in place (the classes are shared, not the module object). */
export function instrumentAgents(exports: Record<string, any>, instrumentCall: InstrumentCall): void {
  const seen = new Set<unknown>();
  for (const name of AGENT_CLASSES) {
    try {
      const cls = exports[name];
      if (typeof cls !== 'function' || seen.has(cls)) continue;
      seen.add(cls);
      const proto = cls.prototype as Record<string, any> | undefined;
      if (!proto) continue;
      for (const method of AGENT_METHODS) {
        const original = proto[method];
        if (typeof original !== 'function' || original.__tokenmeter) continue;
        proto[method] = wrapAgentMethod(original, instrumentCall);
      }
    } catch (err) {
      recordFault('vercel-ai.agent.patch', err);
    }
  }
}

function wrapAgentMethod(original: (...args: any[]) => any, instrumentCall: InstrumentCall) {
  const wrapped = function (this: any, ...args: any[]) {
    return original.apply(viewForCall(this, instrumentCall), args);
  };
  Object.defineProperty(wrapped, '__tokenmeter', { value: true });
  Object.defineProperty(wrapped, 'name', { value: original.name });
  return wrapped;
}

/** The agent as one call sees it: its own settings shadowed by instrumented ones (or the agent itself). */
function viewForCall(agent: any, instrumentCall: InstrumentCall): any {
  try {
    const settings = agent?.settings;
    if (!settings || typeof settings !== 'object') return agent;
    return Object.create(agent, { settings: { value: settingsForCall(settings, instrumentCall) } });
  } catch (err) {
    recordFault('vercel-ai.agent', err);
    return agent;
  }
}

/**
 * The agent's settings for one call. With a `prepareCall` (ai 6+), what it returns is the
 * call's options (ai falls back to the settings when it returns nothing): those are
 * instrumented, so a model it picks is recorded too.
 */
function settingsForCall(settings: any, instrumentCall: InstrumentCall): any {
  const prepareCall = settings.prepareCall;
  if (typeof prepareCall !== 'function') return instrumentCall(settings);
  return {
    ...settings,
    prepareCall: async function (this: unknown, args: any) {
      const prepared = (await prepareCall.call(this, args)) ?? args;
      try {
        return prepared && typeof prepared === 'object' ? instrumentCall(prepared) : prepared;
      } catch (err) {
        recordFault('vercel-ai.agent', err);
        return prepared;
      }
    },
  };
}
