import type { AttrValue, Attributes, SpanInput } from '@tokenmeter/instrumentation/normalize';
import type { SpanRejection } from '../otlp/decode.js';

export interface SpanLimits {
  maxAttributesPerSpan: number;
  maxAttributeLength: number;
}

/**
 * Spans within the per-span limits, and a rejection with its reason for each one
 * beyond them: more attributes than allowed (on the span, its resource, or any one
 * event or link), or an attribute value (string, or string inside an array or map)
 * longer than allowed. The span is rejected whole: a cut-down span could miscount.
 */
export function checkSpanLimits(
  spans: SpanInput[],
  limits: SpanLimits,
): { spans: SpanInput[]; rejected: SpanRejection[] } {
  const kept: SpanInput[] = [];
  const rejected: SpanRejection[] = [];
  // A request's spans share their resource (one object): it is checked once.
  const resources = new Map<Attributes, Problem | undefined>();
  for (const span of spans) {
    const problem = spanProblem(span, limits, resources);
    if (problem) rejected.push({ reason: problem.reason, detail: `span ${span.spanId}: ${problem.detail}` });
    else kept.push(span);
  }
  return { spans: kept, rejected };
}

interface Problem {
  reason: string;
  detail: string;
}

function spanProblem(
  span: SpanInput,
  limits: SpanLimits,
  resources: Map<Attributes, Problem | undefined>,
): Problem | undefined {
  const own = attributesProblem('attributes', span.attributes, limits);
  if (own) return own;
  let resource = resources.get(span.resource);
  if (resource === undefined && !resources.has(span.resource)) {
    resource = attributesProblem('resource attributes', span.resource, limits);
    resources.set(span.resource, resource);
  }
  if (resource) return resource;
  for (let i = 0; i < span.events.length; i++) {
    const p = attributesProblem(`events[${i}] attributes`, span.events[i]!.attributes, limits);
    if (p) return p;
  }
  for (let i = 0; i < span.links.length; i++) {
    const p = attributesProblem(`links[${i}] attributes`, span.links[i]!.attributes, limits);
    if (p) return p;
  }
  for (const [field, value] of [
    ['name', span.name],
    ['status.message', span.status.message],
  ] as const) {
    if (value.length > limits.maxAttributeLength) {
      return {
        reason: 'attribute_too_long',
        detail: `${field} is longer than ${limits.maxAttributeLength} characters`,
      };
    }
  }
  return undefined;
}

function attributesProblem(where: string, attrs: Attributes, limits: SpanLimits): Problem | undefined {
  const keys = Object.keys(attrs);
  if (keys.length > limits.maxAttributesPerSpan) {
    return {
      reason: 'too_many_attributes',
      detail: `${keys.length} ${where}, more than ${limits.maxAttributesPerSpan}`,
    };
  }
  for (const key of keys) {
    if (key.length > limits.maxAttributeLength || longest(attrs[key] ?? null, 0) > limits.maxAttributeLength) {
      return {
        reason: 'attribute_too_long',
        detail: `${where} ${JSON.stringify(key.slice(0, 64))} is longer than ${limits.maxAttributeLength} characters`,
      };
    }
  }
  return undefined;
}

/** Length of the longest string in a value (arrays and maps searched, depth-bounded). */
function longest(v: AttrValue, depth: number): number {
  if (typeof v === 'string') return v.length;
  if (v === null || typeof v !== 'object' || depth > 32) return 0;
  let max = 0;
  const items = Array.isArray(v) ? v : Object.entries(v).flat();
  for (const x of items) max = Math.max(max, longest(x as AttrValue, depth + 1));
  return max;
}
