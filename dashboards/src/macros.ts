/**
 * Expansion of panel SQL the way Grafana and the grafana-clickhouse-datasource plugin
 * expand it, as pure functions (no Grafana, no ClickHouse).
 *
 * What the plugin does, in order (learned from grafana/clickhouse-datasource:
 * src/data/CHDatasource.ts applyTemplateVariables, pkg/macros/macros.go, and
 * grafana/macropro's parser):
 *  1. frontend: `$__conditionalAll(expr, $var)` becomes `1=1` when `$var` is "All" or
 *     empty, else `expr`;
 *  2. frontend: Grafana's template service replaces `$var`, `${var}`, `${var:format}`,
 *     `[[var]]` anywhere in the text; unknown names stay as they are; "All" becomes
 *     every option's value (or the variable's custom allValue, unformatted);
 *  3. backend: comments are blanked out, then `$__` macros are expanded outside
 *     string literals: `$__timeFilter(col)` → `col >= toDateTime(from) AND col <= toDateTime(to)`,
 *     `$__dateFilter(col)` → `col >= toDate('…') AND col <= toDate('…')`,
 *     `$__timeInterval(col)` → `toStartOfInterval(toDateTime(col), INTERVAL n second)`,
 *     `$__interval_s` → n, `$__fromTime`/`$__toTime` → `toDateTime(unix seconds)`, …
 *
 * Two outputs:
 *  - `expandAsGrafana`: the text Grafana would send to ClickHouse (values spliced in).
 *  - `expandPanelSql`: the same SQL with every variable VALUE bound as a ClickHouse query
 *    parameter, for running panels on the server (tokenmeter's web view). A variable may
 *    then appear only as `col IN (${var:singlequote})` (usually inside
 *    `$__conditionalAll(…, $var)`), which becomes `col IN ({v_var:Array(String)})`.
 *    Anything else that mentions a variable is refused, so no value is ever spliced.
 */

/** What a template variable is set to. "All" is `ALL` (or `[ALL]`), as Grafana stores it. */
export type VariableValue = string | readonly string[];
export const ALL = '$__all';

export interface ExpandOptions {
  from: Date;
  to: Date;
  /** Grafana's $__interval for the panel, in seconds (see `grafanaInterval`). */
  intervalSeconds: number;
  variables: Readonly<Record<string, VariableValue>>;
  /** What "All" stands for when a variable is used outside $__conditionalAll: the option values. */
  allValues?: Readonly<Record<string, readonly string[]>>;
}

export interface BoundSql {
  sql: string;
  /** ClickHouse query parameters for the `{name:Type}` placeholders in sql. */
  params: Record<string, string[]>;
}

export class MacroError extends Error {}

/** The text Grafana (frontend, then the plugin's backend) would send to ClickHouse. */
export function expandAsGrafana(sql: string, opts: ExpandOptions): string {
  const withConditions = applyConditionalAll(sql, opts.variables);
  const withValues = withConditions.replace(VARIABLE_RE, (match, ...groups: (string | undefined)[]) => {
    const [plain, bracket, bracketFmt, braced, , bracedFmt] = groups;
    const name = (plain ?? bracket ?? braced) as string;
    if (!(name in opts.variables)) return match;
    return formatValue(name, opts, bracketFmt ?? bracedFmt);
  });
  return expandMacros(withValues, opts);
}

/** Maximum values per variable and characters per value the server accepts. */
export const VALUE_LIMITS = { values: 1000, length: 512 } as const;

/**
 * The same expansion with every variable value bound as a query parameter.
 * Throws MacroError for a variable used in any other shape than `IN (${var:singlequote})`,
 * a variable the caller did not set, or a value that is not plain text.
 */
export function expandPanelSql(sql: string, opts: ExpandOptions): BoundSql {
  const params: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(opts.variables)) checkValue(name, value);
  const withConditions = applyConditionalAll(sql, opts.variables);
  const withParams = withConditions.replace(VARIABLE_RE, (match, ...groups: (string | undefined)[]) => {
    const [plain, bracket, , braced, , bracedFmt] = groups;
    const name = (plain ?? bracket ?? braced) as string;
    if (plain?.startsWith('__')) return match; // a macro, expanded below
    if (!(name in opts.variables)) throw new MacroError(`variable $${name} is not set`);
    if (braced === undefined || bracedFmt !== 'singlequote') {
      throw new MacroError(`variable ${match} may only be used as \`col IN (\${${name}:singlequote})\``);
    }
    const values = valuesOf(name, opts);
    if (values.length === 0) throw new MacroError(`variable $${name} has no value`);
    params[`v_${name}`] = [...values];
    return `{v_${name}:Array(String)}`;
  });
  // Every placeholder must be the whole of an IN (…) list, the one shape both expansions share.
  for (const m of withParams.matchAll(/\{v_(\w+):Array\(String\)\}/g)) {
    const before = withParams.slice(0, m.index).trimEnd();
    const after = withParams.slice((m.index ?? 0) + m[0].length).trimStart();
    if (!/\bIN\s*\($/i.test(before) || !after.startsWith(')')) {
      throw new MacroError(`variable $${m[1]} may only be used as \`col IN (\${${m[1]}:singlequote})\``);
    }
  }
  const expanded = expandMacros(withParams, opts, { strict: true });
  return { sql: expanded, params };
}

/** Grafana's template-variable syntax (public/app/features/variables/utils.ts variableRegex). */
const VARIABLE_RE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

function isAllOrEmpty(value: VariableValue | undefined): boolean {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return text === '' || text === ALL;
}

function valuesOf(name: string, opts: ExpandOptions): readonly string[] {
  const value = opts.variables[name] ?? '';
  if (isAllOrEmpty(value) && value !== '' && !(Array.isArray(value) && value.length === 0)) {
    const all = opts.allValues?.[name];
    if (!all) throw new MacroError(`variable $${name} is "All" outside $__conditionalAll and its options are unknown`);
    return all;
  }
  return typeof value === 'string' ? [value] : value;
}

function checkValue(name: string, value: VariableValue): void {
  const values = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(values)) throw new MacroError(`variable $${name} must be a string or a list of strings`);
  if (values.length > VALUE_LIMITS.values) {
    throw new MacroError(`variable $${name} has ${values.length} values; at most ${VALUE_LIMITS.values}`);
  }
  for (const v of values) {
    if (typeof v !== 'string') throw new MacroError(`variable $${name} must hold strings, got ${typeof v}`);
    if (v.length > VALUE_LIMITS.length) {
      throw new MacroError(`a value of $${name} is ${v.length} characters; at most ${VALUE_LIMITS.length}`);
    }
    if (/[\u0000-\u001f\u007f]/.test(v)) throw new MacroError(`a value of $${name} contains a control character`);
  }
}

/** Grafana's formats (public/app/features/templating/formatRegistry.ts), the plugin's own as default. */
function formatValue(name: string, opts: ExpandOptions, format: string | undefined): string {
  const value = opts.variables[name] ?? '';
  const isAll = Array.isArray(value) ? value.length === 1 && value[0] === ALL : value === ALL;
  const values: readonly string[] | string = isAll
    ? (opts.allValues?.[name] ?? [])
    : typeof value === 'string'
      ? value
      : value;
  const list = typeof values === 'string' ? [values] : values;
  switch (format) {
    case undefined:
      // The plugin's formatter: a list becomes 'a','b' (unescaped); a single value stays raw.
      return Array.isArray(values) ? `'${list.join("','")}'` : (values as string);
    case 'singlequote':
      return list.map((v) => `'${v.replace(/'/g, "\\'")}'`).join(',');
    case 'doublequote':
      return list.map((v) => `"${v.replace(/"/g, '\\"')}"`).join(',');
    case 'sqlstring':
      return list.map((v) => `'${v.replace(/'/g, "''")}'`).join(',');
    case 'csv':
    case 'raw':
    case 'text':
      return list.join(',');
    case 'pipe':
      return list.join('|');
    default:
      throw new MacroError(`unsupported variable format :${format} for $${name}`);
  }
}

/** The plugin's `$__conditionalAll(expr, $var)`, applied from the last occurrence backwards. */
function applyConditionalAll(sql: string, variables: ExpandOptions['variables']): string {
  const macro = '$__conditionalAll(';
  let out = sql;
  let index = out.lastIndexOf(macro);
  while (index !== -1) {
    const parsed = parseArgs(out, index + macro.length - 1);
    if (!parsed || parsed.args.length !== 2) throw new MacroError('$__conditionalAll expects 2 arguments');
    const [expr = '', varArg = ''] = parsed.args;
    const name = /\$\{(\w+)\}|\$(\w+)/.exec(varArg.trim());
    const varName = name?.[1] ?? name?.[2];
    const phrase = varName !== undefined && isAllOrEmpty(variables[varName]) ? '1=1' : expr;
    out = out.slice(0, index) + phrase + out.slice(parsed.end);
    index = out.lastIndexOf(macro);
  }
  return out;
}

/**
 * Arguments of a call whose '(' is at `open`: split at top-level commas, quotes respected.
 * Returns the index just past the closing ')'.
 */
function parseArgs(text: string, open: number): { args: string[]; end: number } | undefined {
  let depth = 0;
  let start = open + 1;
  const args: string[] = [];
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"' || c === '`') {
      i = skipQuoted(text, i);
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) {
        args.push(text.slice(start, i));
        return { args: args.length === 1 && args[0]?.trim() === '' ? [] : args, end: i + 1 };
      }
    } else if (c === ',' && depth === 1) {
      args.push(text.slice(start, i));
      start = i + 1;
    }
  }
  return undefined;
}

/** Index of the closing quote of the literal opening at `i` (backslash escapes and doubled quotes). */
function skipQuoted(text: string, i: number): number {
  const q = text[i];
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\' && q !== '`') j++;
    else if (text[j] === q) {
      if (text[j + 1] === q) j++;
      else return j;
    }
  }
  return text.length - 1;
}

type MacroFn = (args: string[], opts: ExpandOptions) => string;

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
const dateTime = (d: Date) => `toDateTime(${seconds(d)})`;
const dateTime64 = (d: Date) => `fromUnixTimestamp64Milli(${d.getTime()})`;
const date = (d: Date) => `toDate('${d.toISOString().slice(0, 10)}')`;
const intervalS = (o: ExpandOptions) => Math.trunc(Math.max(o.intervalSeconds, 1));

/** The plugin's macro set (pkg/macros/macros.go ClickHouseMacros), by name and argument count. */
const MACROS: Record<string, { arity: number; fn: MacroFn }> = {
  timeFilter: { arity: 1, fn: ([c], o) => `${c} >= ${dateTime(o.from)} AND ${c} <= ${dateTime(o.to)}` },
  timeFilter_ms: { arity: 1, fn: ([c], o) => `${c} >= ${dateTime64(o.from)} AND ${c} <= ${dateTime64(o.to)}` },
  dateFilter: { arity: 1, fn: ([c], o) => `${c} >= ${date(o.from)} AND ${c} <= ${date(o.to)}` },
  dateTimeFilter: {
    arity: 2,
    fn: ([d, t], o) =>
      `(${d} >= ${date(o.from)} AND ${d} <= ${date(o.to)}) AND (${t} >= ${dateTime(o.from)} AND ${t} <= ${dateTime(o.to)})`,
  },
  timeFrom: { arity: 1, fn: ([c], o) => `${c} >= ${dateTime(o.from)}` },
  timeTo: { arity: 1, fn: ([c], o) => `${c} <= ${dateTime(o.to)}` },
  fromTime: { arity: 0, fn: (_, o) => dateTime(o.from) },
  toTime: { arity: 0, fn: (_, o) => dateTime(o.to) },
  fromTime_ms: { arity: 0, fn: (_, o) => dateTime64(o.from) },
  toTime_ms: { arity: 0, fn: (_, o) => dateTime64(o.to) },
  timeInterval: {
    arity: 1,
    fn: ([c], o) => `toStartOfInterval(toDateTime(${c}), INTERVAL ${intervalS(o)} second)`,
  },
  timeInterval_ms: {
    arity: 1,
    fn: ([c], o) =>
      `toStartOfInterval(toDateTime64(${c}, 3), INTERVAL ${Math.trunc(Math.max(o.intervalSeconds * 1000, 1))} millisecond)`,
  },
  interval_s: { arity: 0, fn: (_, o) => String(intervalS(o)) },
  interval_ms: { arity: 0, fn: (_, o) => String(Math.trunc(o.intervalSeconds * 1000)) },
};
MACROS.dt = MACROS.dateTimeFilter as (typeof MACROS)[string];

/**
 * The backend pass: comments blanked (length-preserving, as macropro does), then every
 * `$__name` or `$__name(args)` outside string literals expanded. Unknown macros stay as
 * they are, as in the plugin; `strict` refuses them instead.
 */
function expandMacros(sql: string, opts: ExpandOptions, mode: { strict?: boolean } = {}): string {
  let out = '';
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i] as string;
    if (c === "'" || c === '"' || c === '`') {
      const end = skipQuoted(sql, i);
      out += sql.slice(i, end + 1);
      i = end;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += ' '.repeat(stop - i);
      i = stop - 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end === -1 ? sql.length : end + 2;
      out += sql.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop - 1;
    } else if (c === '$' && sql.startsWith('$__', i)) {
      const name = /^\$__(\w+)/.exec(sql.slice(i))?.[1] ?? '';
      const macro = MACROS[name];
      const after = i + 3 + name.length;
      if (!macro) {
        if (mode.strict) throw new MacroError(`unknown macro $__${name}`);
        out += `$__${name}`;
        i = after - 1;
        continue;
      }
      let args: string[] = [];
      let end = after;
      if (sql[after] === '(') {
        const parsed = parseArgs(sql, after);
        if (!parsed) throw new MacroError(`$__${name}: unbalanced parentheses`);
        args = parsed.args.map((a) => expandMacros(a.trim(), opts, mode));
        end = parsed.end;
      }
      if (args.length !== macro.arity) {
        throw new MacroError(`$__${name} expected ${macro.arity} argument(s), received ${args.length}`);
      }
      out += macro.fn(args, opts);
      i = end - 1;
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * Grafana's $__interval for a time range and a panel's width in data points
 * (rangeutil.calculateInterval: range / maxDataPoints, rounded to a "nice" step,
 * at least minIntervalSeconds).
 */
export function grafanaInterval(from: Date, to: Date, maxDataPoints = 1000, minIntervalSeconds = 0): number {
  const rawMs = Math.max((to.getTime() - from.getTime()) / maxDataPoints, minIntervalSeconds * 1000);
  const rounded = roundInterval(rawMs);
  return Math.max(rounded, minIntervalSeconds * 1000) / 1000;
}

/** Grafana's roundInterval (packages/grafana-data/src/datetime/rangeutil.ts), in milliseconds. */
function roundInterval(ms: number): number {
  const steps: [number, number][] = [
    [15, 10],
    [35, 20],
    [75, 50],
    [150, 100],
    [350, 200],
    [750, 500],
    [1500, 1000],
    [3500, 2000],
    [7500, 5000],
    [12500, 10000],
    [17500, 15000],
    [25000, 20000],
    [45000, 30000],
    [90000, 60000],
    [210000, 120000],
    [450000, 300000],
    [750000, 600000],
    [1050000, 900000],
    [1500000, 1200000],
    [2700000, 1800000],
    [5400000, 3600000],
    [9000000, 7200000],
    [16200000, 10800000],
    [32400000, 21600000],
    [86400000, 43200000],
    [604800000, 86400000],
    [1814400000, 604800000],
    [3628800000, 2592000000],
  ];
  for (const [below, value] of steps) if (ms < below) return value;
  return 31536000000;
}
