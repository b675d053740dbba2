// Builds a minimal RFC 6902 JSON Patch while applying it to a working copy, so each step sees the result of
// the previous ones. Only `add` and `replace` on exact paths: arrays are appended to, never rewritten, so
// what other mutating webhooks did to the same pod is kept.
//
// The working copy is copy-on-write: only the objects and arrays on the path of a change are copied (a
// pod with 10 containers of 100 env vars is not cloned for the few places injection touches), the input is
// never modified, and the values recorded in the patch are never modified by later steps.
export type Operation = { op: 'add'; path: string; value: unknown } | { op: 'replace'; path: string; value: unknown } | { op: 'remove'; path: string };
type ValueOperation = Extract<Operation, { value: unknown }>;

export function escapeKey(key: string): string {
  return key.includes('~') || key.includes('/') ? key.replace(/~/g, '~0').replace(/\//g, '~1') : key;
}

export function pointer(...segments: Array<string | number>): string {
  let out = '';
  for (const s of segments) out += `/${escapeKey(String(s))}`;
  return out;
}

// Parsed pointers, shared by all requests: injection asks for the same few dozen paths every time.
const parsedPaths = new Map<string, readonly string[]>();

function segmentsOf(path: string): readonly string[] {
  let segs = parsedPaths.get(path);
  if (segs) return segs;
  segs = path === '' ? [] : path.slice(1).split('/').map((s) => (s.includes('~') ? s.replace(/~1/g, '/').replace(/~0/g, '~') : s));
  if (parsedPaths.size > 10_000) parsedPaths.clear(); // bounded: paths with user-chosen keys are unbounded
  parsedPaths.set(path, segs);
  return segs;
}

type Container = Record<string, unknown> | unknown[];
const isContainer = (v: unknown): v is Container => v !== null && typeof v === 'object';

export class PatchBuilder<T extends object> {
  readonly ops: Operation[] = [];
  private root: T;
  /** Containers this builder copied (and so may modify); everything else is shared with the input. */
  private readonly owned = new WeakSet<object>();

  constructor(original: T) {
    this.root = original;
  }

  /** The document with every operation so far applied. */
  get doc(): T {
    return this.root;
  }

  get(path: string): unknown {
    let node: unknown = this.root;
    for (const seg of segmentsOf(path)) {
      if (!isContainer(node)) return undefined;
      node = (node as Record<string, unknown>)[seg];
    }
    return node;
  }

  private copy(c: Container): Container {
    const out = Array.isArray(c) ? [...c] : { ...c };
    this.owned.add(out);
    return out;
  }

  /** The container at `segments`, made writable by copying it and its ancestors where not yet owned. */
  private writable(segments: readonly string[]): Container {
    if (!this.owned.has(this.root)) this.root = this.copy(this.root as Container) as T;
    let node = this.root as Container;
    for (const seg of segments) {
      const child = (node as Record<string, unknown>)[seg];
      if (!isContainer(child)) throw new Error(`patch path /${segments.join('/')} does not exist`);
      let next = child;
      if (!this.owned.has(child)) {
        next = this.copy(child);
        (node as Record<string, unknown>)[seg] = next;
      }
      node = next;
    }
    return node;
  }

  private apply(op: ValueOperation): void {
    const segs = segmentsOf(op.path);
    const key = segs[segs.length - 1]!;
    const parent = this.writable(segs.slice(0, -1));
    // The document gets the value itself, not owned: a later change below it copies it first, so the
    // recorded operation keeps the value it was sent with.
    if (Array.isArray(parent)) {
      const i = key === '-' ? parent.length : Number(key);
      if (op.op === 'add') parent.splice(i, 0, op.value);
      else parent[i] = op.value;
    } else {
      parent[key] = op.value;
    }
    this.ops.push(op);
  }

  /** Sets `obj[key] = value` where obj is at `objPath`; creates obj when absent. No-op when equal. */
  set(objPath: string, key: string, value: unknown): void {
    const obj = this.get(objPath);
    if (obj === undefined || obj === null) {
      this.apply({ op: 'add', path: objPath, value: { [key]: value } });
      return;
    }
    const path = `${objPath}/${escapeKey(key)}`;
    const current = (obj as Record<string, unknown>)[key];
    if (current === undefined) this.apply({ op: 'add', path, value });
    else if (!deepEqual(current, value)) this.apply({ op: 'replace', path, value });
  }

  /** Appends `item` to the array at `arrPath`, creating the array when absent. */
  append(arrPath: string, item: unknown): void {
    const arr = this.get(arrPath);
    if (!Array.isArray(arr)) this.apply({ op: 'add', path: arrPath, value: [item] });
    else this.apply({ op: 'add', path: `${arrPath}/${arr.length}`, value: item });
  }

  /**
   * Makes sure the array at `arrPath` has an element whose `name` is item.name equal to `item`: appends it
   * when missing, replaces it when different (at its own index, leaving the others alone).
   */
  upsertNamed(arrPath: string, item: { name: string } & Record<string, unknown>): void {
    const arr = this.get(arrPath);
    const idx = Array.isArray(arr) ? arr.findIndex((e) => (e as { name?: unknown })?.name === item.name) : -1;
    if (idx < 0) this.append(arrPath, item);
    else if (!deepEqual((arr as unknown[])[idx], item)) this.apply({ op: 'replace', path: `${arrPath}/${idx}`, value: item });
  }

  /** Like upsertNamed but leaves an existing element alone (the user's choice wins). */
  ensureNamed(arrPath: string, item: { name: string } & Record<string, unknown>): void {
    const arr = this.get(arrPath);
    const exists = Array.isArray(arr) && arr.some((e) => (e as { name?: unknown })?.name === item.name);
    if (!exists) this.append(arrPath, item);
  }
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => deepEqual(ao[k], bo[k]));
}
