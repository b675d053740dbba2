// Checks a value against one of our TypeBox schemas with Ajv: applies the schema's defaults, refuses unknown
// keys (except under x-kubernetes-preserve-unknown-fields) and reports errors as `<field path>: <message>`.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { TSchema } from '@sinclair/typebox';

export interface FieldError {
  /** Dotted path with [i] for list items, e.g. spec.scaling.minReplicas or spec.workload.template.spec.containers[0].name */
  path: string;
  message: string;
}

export function formatFieldError(e: FieldError): string {
  return e.path ? `${e.path}: ${e.message}` : e.message;
}

/** Ajv shared by every checker: Kubernetes' schema extensions are known keywords, formats are not enforced. */
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, strictTypes: false, validateFormats: false });
for (const keyword of [
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-validations',
]) {
  ajv.addKeyword({ keyword });
}
ajv.addFormat('date-time', true);

/** Plain JSON copy of a TypeBox schema (drops TypeBox's symbol keys), with unknown keys closed where wanted. */
export function toPlainSchema(schema: TSchema, closeObjects: boolean): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  if (closeObjects) closeAll(plain);
  return plain;
}

function closeAll(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(closeAll);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  if (obj.type === 'object' && obj.properties && !obj['x-kubernetes-preserve-unknown-fields'] && obj.additionalProperties === undefined) {
    obj.additionalProperties = false;
  }
  for (const value of Object.values(obj)) closeAll(value);
}

export function jsonPointerToPath(pointer: string): string {
  if (!pointer) return '';
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function describe(err: ErrorObject): FieldError {
  const path = jsonPointerToPath(err.instancePath);
  const p = err.params as Record<string, unknown>;
  const child = (key: unknown) => jsonPointerToPath(`${err.instancePath}/${escapePointer(String(key))}`);
  switch (err.keyword) {
    case 'required':
      return { path: child(p.missingProperty), message: 'is required' };
    case 'additionalProperties':
      return { path: child(p.additionalProperty), message: 'unknown field' };
    case 'enum':
      return { path, message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'type':
      return { path, message: `must be of type ${String(p.type)}` };
    case 'minimum':
      return { path, message: `must be >= ${String(p.limit)}` };
    case 'maximum':
      return { path, message: `must be <= ${String(p.limit)}` };
    case 'minLength':
      return { path, message: p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters` };
    case 'pattern':
      return { path, message: `must match ${String(p.pattern)}` };
    default:
      return { path, message: err.message ?? err.keyword };
  }
}

/** Ajv reports each alternative of an anyOf; keep one clear message per path. */
function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = `${e.path}\u0000${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Ajv errors (of any schema, e.g. kubernetes-models') as field errors under `basePath`. */
export function fieldErrors(errors: readonly ErrorObject[], basePath = ''): FieldError[] {
  const out = errors
    .filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf')
    .map(describe)
    .map((e) => ({ ...e, path: basePath ? (e.path ? `${basePath}.${e.path}`.replace(/\.\[/g, '[') : basePath) : e.path }));
  return collapseIntOrString(dedupe(out));
}

export class SchemaChecker<T> {
  private readonly validateFn: ValidateFunction;

  constructor(schema: TSchema, opts: { closeObjects: boolean }) {
    this.validateFn = ajv.compile(toPlainSchema(schema, opts.closeObjects));
  }

  /** Checks `value` in place: defaults are written into it. */
  check(value: unknown, basePath = ''): { ok: true; value: T } | { ok: false; errors: FieldError[] } {
    if (this.validateFn(value)) return { ok: true, value: value as T };
    return { ok: false, errors: fieldErrors(this.validateFn.errors ?? [], basePath) };
  }
}

/** An int-or-string field fails both `type` alternatives; say it once. */
function collapseIntOrString(errors: FieldError[]): FieldError[] {
  const byPath = new Map<string, FieldError[]>();
  for (const e of errors) byPath.set(e.path, [...(byPath.get(e.path) ?? []), e]);
  const out: FieldError[] = [];
  for (const [path, list] of byPath) {
    const types = list.filter((e) => e.message.startsWith('must be of type '));
    if (types.length > 1) {
      out.push({ path, message: `must be of type ${types.map((e) => e.message.slice('must be of type '.length)).join(' or ')}` });
      out.push(...list.filter((e) => !types.includes(e)));
    } else out.push(...list);
  }
  return out;
}
