/**
 * Redaction applied to any prompt or completion text before it goes on a span (capture is
 * opt-in). Patterns for secrets follow the shapes providers and clouds document for their keys.
 */
const PATTERNS: readonly [RegExp, string][] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '[REDACTED_PRIVATE_KEY]'],
  [/\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g, '[REDACTED_EMAIL]'],
  [/\bsk-(?:ant-|proj-|svcacct-)?[A-Za-z0-9_-]{16,}/g, '[REDACTED_SECRET]'],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g, '[REDACTED_SECRET]'],
  [/\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{20,}/g, '[REDACTED_SECRET]'],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/g, '[REDACTED_SECRET]'],
  [/\bAIza[0-9A-Za-z_-]{35}\b/g, '[REDACTED_SECRET]'],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, '[REDACTED_SECRET]'],
  [/\b(Bearer)\s+[A-Za-z0-9._~+/=-]{16,}/gi, '$1 [REDACTED_SECRET]'],
  [
    /\b(api[_-]?key|secret|password|passwd|token|access[_-]?key)(["']?\s*[:=]\s*["']?)[^\s"',;]{6,}/gi,
    '$1$2[REDACTED_SECRET]',
  ],
];

export function redact(text: string): string {
  let out = text;
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement);
  return out;
}

/** A message list in the convention's shape, as a JSON string, with every text redacted. */
export function messagesAttribute(messages: { role: string; content: string }[]): string {
  return JSON.stringify(
    messages.map((m) => ({
      role: m.role,
      parts: [{ type: 'text', content: redact(m.content) }],
    })),
  );
}

/** The text of a message content in any of the SDKs' shapes (string, or a list of parts). */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    let out = '';
    for (const part of content) {
      if (typeof part === 'string') out += part;
      else if (part && typeof part === 'object') {
        const p = part as { text?: unknown; content?: unknown };
        if (typeof p.text === 'string') out += p.text;
        else if (typeof p.content === 'string') out += p.content;
      }
    }
    return out;
  }
  return '';
}
