import { describe, expect, it } from 'vitest';
import { compileView, findScope, modelAlias, modelMatches } from './matcher.js';
import type { EnforcementScope } from './types.js';

const entry = (id: string, scope: Partial<EnforcementScope['scope']>): EnforcementScope => ({
  budgetId: id,
  scope: { team: '', user: '', feature: '', model: '', ...scope },
  spendUsd: '2',
  limitUsd: '1',
  percent: 200,
  periodEnd: '2026-12-01T00:00:00.000Z',
});

const view = compileView({
  tenant: 'acme',
  generatedAt: '',
  refreshAfterMs: 5000,
  hard: [
    entry('alice', { user: 'alice' }),
    entry('search-chat', { team: 'search', feature: 'chat' }),
    entry('mini-support', { team: 'support', model: 'gpt-4o-mini' }),
    entry('opus', { model: 'claude-opus-4-1' }),
  ],
  soft: [],
});

const call = (c: { user?: string; team?: string; feature?: string; model?: string }) => {
  const model = c.model ?? 'gpt-4o';
  return { user: c.user ?? '', team: c.team ?? '', feature: c.feature ?? '', model, alias: modelAlias(model) };
};

describe('findScope', () => {
  it.each([
    [{ user: 'alice' }, 'alice'],
    [{ user: 'bob' }, undefined],
    [{ user: 'bob', team: 'search', feature: 'chat' }, 'search-chat'],
    [{ user: 'bob', team: 'search', feature: 'summarize' }, undefined],
    [{ team: 'support', model: 'gpt-4o-mini' }, 'mini-support'],
    [{ team: 'support', model: 'gpt-4o-mini-2024-07-18' }, 'mini-support'],
    [{ team: 'support', model: 'gpt-4o' }, undefined],
    [{ team: 'growth', model: 'claude-opus-4-1-20250805' }, 'opus'],
    [{}, undefined],
  ])('%j → %s', (c, expected) => {
    expect(findScope(view.hard, call(c))?.budgetId).toBe(expected);
  });
  it('a global budget holds every call', () => {
    const v = compileView({ tenant: 't', generatedAt: '', refreshAfterMs: 1, hard: [entry('all', {})], soft: [] });
    expect(findScope(v.hard, call({ user: 'anyone' }))?.budgetId).toBe('all');
  });
});

describe('models', () => {
  it.each([
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['claude-3-5-sonnet-20241022', 'claude-3-5-sonnet'],
    ['gpt-4o', 'gpt-4o'],
    ['gemini-2.5-flash', 'gemini-2.5-flash'],
  ])('alias of %s is %s', (model, alias) => {
    expect(modelAlias(model)).toBe(alias);
  });
  it('a budget on gpt-4o does not hold gpt-4o-mini', () => {
    expect(modelMatches('gpt-4o', 'gpt-4o-mini')).toBe(false);
    expect(modelMatches('gpt-4o', 'gpt-4o-2024-08-06')).toBe(true);
  });
});
