import { modelAlias } from '../prices/model-alias.js';
import type { EnforcementScope, EnforcementView } from './types.js';

export { modelAlias };

/**
 * The enforcement view compiled for the hot path (pure). Scopes are grouped by which fields they
 * name (at most 16 shapes: user, team, feature, model, each named or "any"); each shape is a
 * nested map over its named fields. A check is then one map lookup per named field per shape
 * present, whatever the number of scopes; with none, it is a property read.
 */
export interface CompiledView {
  tenant: string;
  isEmpty: boolean;
  hard: Index;
  soft: Index;
}

type Field = 'user' | 'team' | 'feature' | 'model';
const FIELD_ORDER: readonly Field[] = ['user', 'team', 'feature', 'model'];

interface Shape {
  fields: Field[];
  /** Nested maps keyed by each named field in FIELD_ORDER; the last level holds the scope. */
  root: Map<string, unknown>;
  /** The shape that names no field (a global budget). */
  all: EnforcementScope | undefined;
  /** The lookup for this shape, specialised to its fields (monomorphic on the hot path). */
  find: (call: CallKey) => EnforcementScope | undefined;
}

export interface Index {
  size: number;
  shapes: Shape[];
}

export function compileView(view: EnforcementView): CompiledView {
  const hard = index(view.hard);
  const soft = index(view.soft);
  return { tenant: view.tenant, isEmpty: hard.size === 0 && soft.size === 0, hard, soft };
}

function index(entries: readonly EnforcementScope[]): Index {
  const shapes = new Map<string, Shape>();
  for (const e of entries) {
    const fields = FIELD_ORDER.filter((f) => e.scope[f] !== '');
    const id = fields.join(',');
    let shape = shapes.get(id);
    if (!shape) {
      shape = newShape(fields);
      shapes.set(id, shape);
    }
    if (fields.length === 0) {
      shape.all ??= e;
      continue;
    }
    let node = shape.root;
    for (let i = 0; i < fields.length - 1; i++) {
      const k = e.scope[fields[i]!];
      let next = node.get(k) as Map<string, unknown> | undefined;
      if (!next) {
        next = new Map();
        node.set(k, next);
      }
      node = next;
    }
    const last = e.scope[fields[fields.length - 1]!];
    if (!node.has(last)) node.set(last, e);
  }
  return { size: entries.length, shapes: [...shapes.values()] };
}

/** True when a budget on `budgetModel` covers a call to `requestModel` (the alias or a dated snapshot of it). */
export function modelMatches(budgetModel: string, requestModel: string): boolean {
  return budgetModel === '' || budgetModel === requestModel || budgetModel === modelAlias(requestModel);
}

/** The call's fields, looked up once per call. */
export interface CallKey {
  user: string;
  team: string;
  feature: string;
  model: string;
  /** modelAlias(model) */
  alias: string;
}

/** The first scope of `idx` that holds the call, if any. */
export function findScope(idx: Index, call: CallKey): EnforcementScope | undefined {
  const shapes = idx.shapes;
  for (let i = 0; i < shapes.length; i++) {
    const hit = shapes[i]!.find(call);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

type Node = Map<string, unknown> | undefined;
const at = (node: Node, k: string): Node => node?.get(k) as Node;
const leaf = (node: Node, call: CallKey): EnforcementScope | undefined =>
  node === undefined
    ? undefined
    : ((node.get(call.model) ?? (call.alias !== call.model ? node.get(call.alias) : undefined)) as
        EnforcementScope | undefined);

function newShape(fields: Field[]): Shape {
  const shape: Shape = { fields, root: new Map(), all: undefined, find: () => undefined };
  const hasModel = fields[fields.length - 1] === 'model';
  const keyFields = (hasModel ? fields.slice(0, -1) : fields) as Exclude<Field, 'model'>[];
  if (fields.length === 0) {
    shape.find = () => shape.all;
  } else if (keyFields.length === 0) {
    shape.find = (c) => leaf(shape.root, c);
  } else if (keyFields.length === 1) {
    const [a] = keyFields as [Exclude<Field, 'model'>];
    shape.find = hasModel ? (c) => leaf(at(shape.root, c[a]), c) : (c) => shape.root.get(c[a]) as EnforcementScope;
  } else if (keyFields.length === 2) {
    const [a, b] = keyFields as [Exclude<Field, 'model'>, Exclude<Field, 'model'>];
    shape.find = hasModel
      ? (c) => leaf(at(at(shape.root, c[a]), c[b]), c)
      : (c) => at(shape.root, c[a])?.get(c[b]) as EnforcementScope | undefined;
  } else {
    shape.find = (c) => {
      let node: Node = shape.root;
      for (let i = 0; i < keyFields.length && node !== undefined; i++) node = at(node, c[keyFields[i]!]);
      return hasModel ? leaf(node, c) : (node as unknown as EnforcementScope | undefined);
    };
  }
  return shape;
}
