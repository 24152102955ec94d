/**
 * What a route answers, as plain values: the server (server.ts) does all the I/O.
 * A provider module is a list of routes, each a pattern plus a pure `render`.
 */
import type { ErrorFamily } from './errors.js';
import type { Fixture, RouteName } from './fixtures.js';

/** One piece of a streamed body: an SSE event (text) or an AWS event-stream message (bytes). */
export type Frame = string | Uint8Array;

export interface BodyReply {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

export interface StreamReply {
  status: number;
  headers: Record<string, string>;
  frames: Frame[];
}

export type Reply = BodyReply | StreamReply;

export interface RenderInput {
  fixture: Fixture;
  /** The model the request named (path or body), with any `@scenario` suffix removed. */
  model: string;
  /** The parsed JSON request body, suffix removed from `model`; `{}` when there was none. */
  body: Record<string, any>;
  query: URLSearchParams;
  /** Path parameters from the route's pattern. */
  params: Record<string, string>;
  stream: boolean;
  /** The `no-usage` scenario: leave usage out wherever the provider's API allows it. */
  noUsage: boolean;
}

export interface RouteSpec {
  name: RouteName;
  errors: ErrorFamily;
  method: 'POST' | 'GET';
  /** Matched against the decoded pathname. A named group `model` takes the model from the path, else from body.model. */
  pattern: RegExp;
  /** The request header that names the model instead (the AI Gateway's `ai-language-model-id`). */
  modelHeader?: string;
  isStream(input: {
    params: Record<string, string>;
    body: Record<string, any>;
    query: URLSearchParams;
    headers: Record<string, string | string[] | undefined>;
  }): boolean;
  render(input: RenderInput): Reply;
  /** The request already carries a tool's result (a tool loop's next turn): `tool-call` then answers AFTER_TOOL. */
  hasToolResult?(body: Record<string, any>): boolean;
}

export function jsonReply(body: unknown, headers: Record<string, string> = {}, status = 200): BodyReply {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function sseReply(frames: string[], headers: Record<string, string> = {}): StreamReply {
  return {
    status: 200,
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers },
    frames,
  };
}

/** `data: {...}` with the blank line that ends an SSE event; `eol` lets Google's `\r\n` framing through. */
export function sseData(data: unknown, eol = '\n'): string {
  return `data: ${typeof data === 'string' ? data : JSON.stringify(data)}${eol}${eol}`;
}

export function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Splits a JSON string the way providers stream tool arguments: a few characters at a time. */
export function piecesOf(text: string, size = 8): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

/** Seconds since the epoch, as `created` fields carry it. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
