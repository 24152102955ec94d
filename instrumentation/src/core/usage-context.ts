import { type Context, context, createContextKey, propagation } from '@opentelemetry/api';
import * as S from '../semconv.js';
import type { UsageContext, UsageContextKey } from '../types.js';
import { settings } from './config.js';

/**
 * Attribution on OTel context. The value is a holder object so that `setUsageContext` can fill
 * in what is learnt later (the user id after authentication) for everything still to run in
 * the same `withUsageContext` scope.
 */
interface Holder {
  values: UsageContext;
  /** Span attributes, computed once per change (userId hashed when asked). */
  attributes: Record<string, string> | undefined;
}

const KEY = createContextKey('tokenmeter.usage_context');

/** The span attribute (and W3C baggage key) of each usage-context field. */
export const ATTRIBUTE_OF: Readonly<Record<UsageContextKey, string>> = {
  tenant: S.ATTR_TM_TENANT,
  userId: S.ATTR_USER_ID,
  team: S.ATTR_TM_TEAM,
  feature: S.ATTR_TM_FEATURE,
  sessionId: S.ATTR_SESSION_ID,
  requestId: S.ATTR_TM_REQUEST_ID,
};
const FIELDS = Object.keys(ATTRIBUTE_OF) as UsageContextKey[];

/** Run `fn` with these fields added to the current usage context; every AI span inside carries them. */
export function withUsageContext<T>(values: UsageContext, fn: () => T): T {
  return context.with(contextWithUsage(context.active(), values), fn);
}

/** The context `parent` plus these usage fields (and the opted-in baggage entries). */
export function contextWithUsage(parent: Context, values: UsageContext): Context {
  const outer = parent.getValue(KEY) as Holder | undefined;
  const merged: UsageContext = { ...outer?.values };
  for (const f of FIELDS) {
    const v = values[f];
    if (v !== undefined && v !== null && v !== '') merged[f] = String(v);
  }
  if (values.properties) merged.properties = withProperties(merged.properties, values.properties);
  let ctx = parent.setValue(KEY, {
    values: merged,
    attributes: undefined,
  } satisfies Holder);
  const keys = settings.baggageKeys;
  if (keys.length > 0) {
    let bag = propagation.getBaggage(ctx) ?? propagation.createBaggage();
    for (const k of keys) {
      const v = merged[k];
      if (v !== undefined)
        bag = bag.setEntry(ATTRIBUTE_OF[k], {
          value: k === 'userId' ? userIdForSpan(v) : v,
        });
    }
    ctx = propagation.setBaggage(ctx, bag);
  }
  return ctx;
}

/**
 * Fill in fields of the current usage context (for example the user id once known). Affects
 * what runs later inside the same `withUsageContext` scope. Returns false when there is none.
 */
export function setUsageContext(values: UsageContext): boolean {
  const holder = context.active().getValue(KEY) as Holder | undefined;
  if (!holder) return false;
  for (const f of FIELDS) {
    const v = values[f];
    if (v !== undefined && v !== null && v !== '') holder.values[f] = String(v);
  }
  if (values.properties) holder.values.properties = withProperties(holder.values.properties, values.properties);
  holder.attributes = undefined;
  return true;
}

/** The usage context in force: the scope's own fields, then W3C baggage from upstream services. */
export function getUsageContext(ctx: Context = context.active()): UsageContext {
  const holder = ctx.getValue(KEY) as Holder | undefined;
  const values: UsageContext = { ...holder?.values };
  const bag = propagation.getBaggage(ctx);
  if (bag) {
    for (const f of FIELDS) {
      if (values[f] === undefined) {
        const e = bag.getEntry(ATTRIBUTE_OF[f]);
        if (e) values[f] = e.value;
      }
    }
  }
  return values;
}

const EMPTY: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Span attributes for the usage context of `ctx` (hot path: cached per holder). */
export function usageAttributes(ctx: Context): Record<string, string> {
  const holder = ctx.getValue(KEY) as Holder | undefined;
  const bag = propagation.getBaggage(ctx);
  if (!holder && !bag) return EMPTY;
  if (holder?.attributes && !bag) return holder.attributes;
  const values = bag ? getUsageContext(ctx) : (holder as Holder).values;
  const attributes: Record<string, string> = {};
  for (const f of FIELDS) {
    const v = values[f];
    if (v === undefined) continue;
    // A baggage user id from upstream was hashed there already when hashing is on.
    attributes[ATTRIBUTE_OF[f]] = f === 'userId' && holder?.values.userId === v ? userIdForSpan(v) : v;
  }
  const props = values.properties;
  if (props) for (const name in props) attributes[S.ATTR_TM_PROPERTY_PREFIX + name] = String(props[name]);
  if (holder && !bag) holder.attributes = attributes;
  return attributes;
}

/**
 * `outer` plus `added` as strings (a new object: an outer scope's properties never change).
 * A property set to '', null or undefined is left out; the app's values are never checked
 * further here — bounds are the ingest service's (the guest stays cheap).
 */
function withProperties(
  outer: UsageContext['properties'],
  added: NonNullable<UsageContext['properties']>,
): Record<string, string> {
  const out: Record<string, string> = { ...(outer as Record<string, string> | undefined) };
  try {
    for (const name in added) {
      const v = added[name] as unknown;
      if (name !== '' && v !== undefined && v !== null && v !== '') out[name] = String(v);
    }
  } catch {
    // A getter of the app's object threw: keep what was read, never throw into the app.
  }
  return out;
}

function userIdForSpan(id: string): string {
  const hash = settings.hashUserId;
  return hash ? hash(id) : id;
}
