import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/**
 * An OTLP trace request (the OTLP/JSON shape: lowerCamelCase, hex ids, int64 as strings)
 * → OTLP/HTTP protobuf bytes, with the same published definitions decode.ts reads. For
 * senders inside this package (the demo's history); applications use the OTel exporters.
 */
const PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'proto');
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
root.loadSync('otlp_trace_service.proto', { keepCase: false });
const RequestType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');

export interface OtlpAttribute {
  key: string;
  value: { stringValue: string } | { intValue: string } | { boolValue: boolean } | { doubleValue: number };
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpAttribute[];
  status?: { code: number; message?: string };
}

export interface OtlpTraceRequest {
  resourceSpans: {
    resource: { attributes: OtlpAttribute[] };
    scopeSpans: { scope: { name: string; version?: string }; spans: OtlpSpan[] }[];
  }[];
}

export function encodeTraceRequest(request: OtlpTraceRequest): Uint8Array {
  // fromObject takes hex ids as bytes only base64-encoded: convert them first.
  const withBytes = {
    resourceSpans: request.resourceSpans.map((rs) => ({
      ...rs,
      scopeSpans: rs.scopeSpans.map((ss) => ({
        ...ss,
        spans: ss.spans.map((s) => ({
          ...s,
          traceId: Buffer.from(s.traceId, 'hex'),
          spanId: Buffer.from(s.spanId, 'hex'),
        })),
      })),
    })),
  };
  return RequestType.encode(RequestType.fromObject(withBytes)).finish();
}

/** An attribute in OTLP's shape: strings, integers (as int64 strings), booleans, doubles. */
export function attr(key: string, value: string | number | boolean): OtlpAttribute {
  if (typeof value === 'string') return { key, value: { stringValue: value } };
  if (typeof value === 'boolean') return { key, value: { boolValue: value } };
  return Number.isInteger(value) ? { key, value: { intValue: String(value) } } : { key, value: { doubleValue: value } };
}
