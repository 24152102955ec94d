/**
 * The one client-side helper the replay needs: AWS SDK v3 clients have no defaultHeaders
 * option, so the scenario header goes in through their middleware stack. (OpenAI and
 * Anthropic take `defaultHeaders`, Google GenAI `httpOptions.headers`.)
 */
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
