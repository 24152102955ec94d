/**
 * Client-side helpers for the replay: AWS SDK v3 clients have no defaultHeaders option, so the
 * scenario header goes in through their middleware stack (OpenAI and Anthropic take
 * `defaultHeaders`, Google GenAI `httpOptions.headers`); and Bedrock clients for the replay's
 * HTTP/2 endpoint, destroyed together after the tests.
 */
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { SCENARIO_HEADER, type Scenario } from './server.js';

interface MiddlewareClient {
  middlewareStack: {
    add(middleware: unknown, options: { step: 'build'; name: string; override: boolean }): void;
  };
}

/** Every later request of `client` carries `x-replay-scenario: <scenario>`. Calling it again replaces the scenario. */
export function setAwsScenario(client: MiddlewareClient, scenario: Scenario): void {
  client.middlewareStack.add(
    (next: (args: any) => Promise<unknown>) => async (args: any) => {
      args.request.headers[SCENARIO_HEADER] = scenario;
      return next(args);
    },
    { step: 'build', name: 'replayScenarioHeader', override: true },
  );
}

/** Bedrock clients against the replay (`h2Url()` read when a client is made), and their cleanup. */
export function replayBedrockClients(h2Url: () => string) {
  const clients: BedrockRuntimeClient[] = [];
  return {
    client(scenario?: Scenario, extra: Record<string, unknown> = {}): BedrockRuntimeClient {
      const client = new BedrockRuntimeClient({
        endpoint: h2Url(),
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
        ...extra,
      });
      if (scenario) setAwsScenario(client, scenario);
      clients.push(client);
      return client;
    },
    destroyAll(): void {
      for (const c of clients) c.destroy();
    },
  };
}
