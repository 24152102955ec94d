// Next.js runs register() once when the server starts, before any route (instrumentation.ts works the same).
export async function register() {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    await import('@tokenmeter/instrumentation/register');
  }
}
