import { describe, expect, it } from 'vitest';
import { CallNesting } from './nested-calls.js';
import type { CallRow } from './rows.js';

const T = 'a'.repeat(32);
const call = (span: string, parent: string, provider = 'anthropic', tenant = 't1'): CallRow =>
  ({ tenant, trace_id: T, span_id: span, parent_span_id: parent, provider }) as CallRow;

describe('CallNesting', () => {
  it('keeps the inner call when both sightings arrive in one batch', () => {
    const outer = call('0000000000000001', '');
    const inner = call('0000000000000002', '0000000000000001');
    expect([...new CallNesting().nested([outer, inner])]).toEqual([outer]);
  });

  it('drops the outer wrapper arriving after its inner call was counted (other tenant attribute too)', () => {
    const n = new CallNesting();
    expect(n.nested([call('0000000000000002', '0000000000000001', 'anthropic', 'default')]).size).toBe(0);
    const outer = call('0000000000000001', '');
    expect([...n.nested([outer])]).toEqual([outer]);
  });

  it('drops an inner call arriving after its outer call was counted', () => {
    const n = new CallNesting();
    n.nested([call('0000000000000001', '')]);
    const inner = call('0000000000000002', '0000000000000001');
    expect([...n.nested([inner])]).toEqual([inner]);
  });

  it('collapses a chain of three sightings to the first', () => {
    const n = new CallNesting();
    expect(n.nested([call('0000000000000003', '0000000000000002')]).size).toBe(0);
    expect(n.nested([call('0000000000000002', '0000000000000001')]).size).toBe(1);
    expect(n.nested([call('0000000000000001', '')]).size).toBe(1);
  });

  it('keeps nested calls to different providers, and sibling calls under one parent span', () => {
    const n = new CallNesting();
    expect(n.nested([call('0000000000000001', ''), call('0000000000000002', '0000000000000001', 'openai')]).size).toBe(
      0,
    );
    const siblings = [call('0000000000000011', '00000000000000aa'), call('0000000000000012', '00000000000000aa')];
    expect(n.nested(siblings).size).toBe(0);
  });
});
