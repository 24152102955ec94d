/**
 * Why an insert failed, as the drainer must act on it: ClickHouse refused the data itself
 * (retrying the same rows can never succeed: split and isolate them), or the write failed
 * for now (network, timeout, memory, load: retry the identical insert).
 */
export interface InsertFailure {
  /** False: the rows themselves are refused; retrying the same insert cannot help. */
  retryable: boolean;
  /** The metric label: parse, type, range, too_large, constraint for data; transient otherwise. */
  reason: 'parse' | 'type' | 'range' | 'too_large' | 'constraint' | 'transient';
  /** The error's name (CANNOT_PARSE_ESCAPE_SEQUENCE, ECONNREFUSED…): says what, never which data. */
  kind: string;
  message: string;
}

/**
 * ClickHouse error names (the exception `type` @clickhouse/client reports, on HTTP and on
 * chdb alike) that mean "these rows can never be inserted", by reason. Anything else — a
 * socket error, a timeout, MEMORY_LIMIT_EXCEEDED, TOO_MANY_PARTS, a missing table, an
 * unknown code — is taken as transient: wrongly splitting good rows would quarantine them,
 * while a wrongly retried bad row only waits, and /readyz reports it.
 */
const DATA_ERRORS: [RegExp, InsertFailure['reason']][] = [
  [/^(CANNOT_PARSE_|CANNOT_READ_|INCORRECT_DATA$|ATTEMPT_TO_READ_AFTER_EOF$|UNEXPECTED_END_OF_FILE$)/, 'parse'],
  [/^(TYPE_MISMATCH|CANNOT_CONVERT_TYPE|CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN)$/, 'type'],
  [/^(ARGUMENT_OUT_OF_BOUND|DECIMAL_OVERFLOW|VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE|SIZES_OF_ARRAYS_DONT_MATCH)$/, 'range'],
  [/^TOO_LARGE_/, 'too_large'],
  [/^VIOLATED_CONSTRAINT$/, 'constraint'],
];

/** The same by numeric code, for an error that carries only the code (older servers, other adapters). */
const DATA_CODES: Record<string, InsertFailure['reason']> = {
  '6': 'parse', // CANNOT_PARSE_TEXT
  '25': 'parse', // CANNOT_PARSE_ESCAPE_SEQUENCE (a lone surrogate)
  '26': 'parse', // CANNOT_PARSE_QUOTED_STRING
  '27': 'parse', // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  '32': 'parse', // ATTEMPT_TO_READ_AFTER_EOF
  '38': 'parse', // CANNOT_PARSE_DATE
  '41': 'parse', // CANNOT_PARSE_DATETIME
  '72': 'parse', // CANNOT_PARSE_NUMBER
  '117': 'parse', // INCORRECT_DATA
  '130': 'parse', // CANNOT_READ_ARRAY_FROM_TEXT
  '53': 'type', // TYPE_MISMATCH
  '70': 'type', // CANNOT_CONVERT_TYPE
  '349': 'type', // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
  '69': 'range', // ARGUMENT_OUT_OF_BOUND
  '321': 'range', // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
  '407': 'range', // DECIMAL_OVERFLOW
  '128': 'too_large', // TOO_LARGE_ARRAY_SIZE
  '131': 'too_large', // TOO_LARGE_STRING_SIZE
  '469': 'constraint', // VIOLATED_CONSTRAINT
};

export function classifyInsertError(err: unknown): InsertFailure {
  const e = (err ?? {}) as { type?: unknown; code?: unknown; message?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  const kind = typeof e.type === 'string' ? e.type : typeof e.code === 'string' ? e.code : 'error';
  if (typeof e.type === 'string') {
    for (const [pattern, reason] of DATA_ERRORS)
      if (pattern.test(e.type)) return { retryable: false, reason, kind, message };
  }
  // Node's socket errors carry string codes (ECONNRESET): only ClickHouse's numeric codes count here.
  if (typeof e.code === 'string' && /^\d+$/.test(e.code) && DATA_CODES[e.code]) {
    return { retryable: false, reason: DATA_CODES[e.code]!, kind, message };
  }
  return { retryable: true, reason: 'transient', kind, message };
}
