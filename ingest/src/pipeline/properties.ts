/** How many custom properties a call keeps, and how long their names and values may be. */
export interface PropertyLimits {
  maxProperties: number;
  maxPropertyNameLength: number;
  maxPropertyValueLength: number;
}

/** The defaults of TOKENMETER_MAX_PROPERTIES, …_NAME_LENGTH, …_VALUE_LENGTH (ingest/src/config.ts). */
export const DEFAULT_PROPERTY_LIMITS: PropertyLimits = {
  maxProperties: 16,
  maxPropertyNameLength: 64,
  maxPropertyValueLength: 256,
};

export type PropertyDropReason = 'too_many' | 'name_too_long' | 'invalid_name' | 'value_too_long';

/** A property name: letters, digits, `_`, `.`, `-` (it is also a query parameter and a dashboard value). */
const NAME_RE = /^[A-Za-z0-9_.-]+$/;

/**
 * A call's custom properties within the limits (pure). A property whose name or value is too
 * long, or whose name has other characters, is dropped whole (never cut: a cut value would
 * group with the wrong calls); past `maxProperties`, the ones after the first names in sorted
 * order are dropped, so the same set always keeps the same ones. Each drop says why.
 */
export function boundProperties(
  properties: Readonly<Record<string, string>>,
  limits: PropertyLimits,
): { kept: Record<string, string>; dropped: { name: string; reason: PropertyDropReason }[] } {
  const kept: Record<string, string> = {};
  const dropped: { name: string; reason: PropertyDropReason }[] = [];
  let count = 0;
  for (const name of Object.keys(properties).sort()) {
    const value = properties[name] as string;
    if (name.length > limits.maxPropertyNameLength) dropped.push({ name, reason: 'name_too_long' });
    else if (!NAME_RE.test(name)) dropped.push({ name, reason: 'invalid_name' });
    else if (value.length > limits.maxPropertyValueLength) dropped.push({ name, reason: 'value_too_long' });
    else if (count >= limits.maxProperties) dropped.push({ name, reason: 'too_many' });
    else {
      kept[name] = value;
      count++;
    }
  }
  return { kept, dropped };
}
