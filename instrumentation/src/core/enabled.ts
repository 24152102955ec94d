/** The one switch every wrapper reads (OTEL_SDK_DISABLED, instrumentation.disable()). */
let enabled = true;

/** Turn every wrapper into a pass-through. */
export function setInstrumentationEnabled(on: boolean): void {
  enabled = on;
}

/** Whether wrappers record (for the few that start calls themselves, as batch results do). */
export function isInstrumentationEnabled(): boolean {
  return enabled;
}
