/**
 * Image archives in `docker save` format, written without Docker: layer tars from files and directories,
 * archives of several images (shared layers stored once), cached by content, and their import into a node's
 * containerd. The e2e node's images (node.ts) and the operator's (operatorImage.ts) are made with these.
 * Node built-ins only and only erasable TypeScript syntax: Node loads this file directly (through node.ts).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
// A .ts specifier: loaded natively by Node too; tsc rewrites it.
import { run } from './processes.ts';

/** One entry of a layer tar: a directory, a file (bytes or a file on disk) or a symlink. */
export interface TarEntry {
  /** Path inside the image, without a leading slash; directories without a trailing slash. */
  name: string;
  type: 'file' | 'dir' | 'symlink';
  mode?: number;
  data?: Buffer;
  /** A file on disk to copy (instead of `data`). */
  source?: string;
  linkname?: string;
  uid?: number;
  gid?: number;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function tarHeader(name: string, type: string, size: number, e: { mode: number; uid: number; gid: number; linkname?: string }): Buffer {
  const h = Buffer.alloc(512);
  const nameBuf = Buffer.from(name, 'utf8');
  const linkBuf = Buffer.from(e.linkname ?? '', 'utf8');
  if (nameBuf.length > 100 || linkBuf.length > 100) throw new Error(`tar: name too long for a ustar header: ${name}`);
  nameBuf.copy(h, 0);
  h.write(octal(e.mode, 8), 100, 'ascii');
  h.write(octal(e.uid, 8), 108, 'ascii');
  h.write(octal(e.gid, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii'); // mtime: 0, for reproducible layers
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  linkBuf.copy(h, 157);
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

/** A PAX record `"<len> key=value\n"`, whose length counts its own digits. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/**
 * Writes a tar of `entries` (in the given order) to `file` and returns its sha256 (hex). Long names get a PAX
 * header; owners are numeric, times are 0. Files on disk are streamed.
 */
export function writeTar(file: string, entries: TarEntry[]): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'w');
  const write = (b: Buffer): void => {
    hash.update(b);
    let off = 0;
    while (off < b.length) off += fs.writeSync(fd, b, off);
  };
  const pad = (size: number): void => {
    if (size % 512 !== 0) write(Buffer.alloc(512 - (size % 512)));
  };
  try {
    const chunk = Buffer.alloc(1 << 20);
    for (const e of entries) {
      const name = e.type === 'dir' ? `${e.name.replace(/\/+$/, '')}/` : e.name;
      const meta = { mode: e.mode ?? (e.type === 'dir' ? 0o755 : e.type === 'symlink' ? 0o777 : 0o644), uid: e.uid ?? 0, gid: e.gid ?? 0, linkname: e.linkname };
      const size = e.type === 'file' ? (e.data ? e.data.length : fs.statSync(e.source ?? '').size) : 0;
      if (Buffer.byteLength(name) > 100 || Buffer.byteLength(e.linkname ?? '') > 100) {
        const pax = Buffer.from(paxRecord('path', name) + (e.linkname ? paxRecord('linkpath', e.linkname) : ''), 'utf8');
        write(tarHeader('PaxHeader', 'x', pax.length, { mode: 0o644, uid: 0, gid: 0 }));
        write(pax);
        pad(pax.length);
        write(tarHeader(name.slice(0, 99), e.type === 'file' ? '0' : e.type === 'dir' ? '5' : '2', size, { ...meta, linkname: (e.linkname ?? '').slice(0, 99) }));
      } else {
        write(tarHeader(name, e.type === 'file' ? '0' : e.type === 'dir' ? '5' : '2', size, meta));
      }
      if (e.type !== 'file') continue;
      if (e.data) {
        write(e.data);
      } else {
        const src = fs.openSync(e.source ?? '', 'r');
        try {
          let copied = 0;
          for (;;) {
            const n = fs.readSync(src, chunk, 0, chunk.length, null);
            if (n === 0) break;
            write(chunk.subarray(0, n));
            copied += n;
          }
          if (copied !== size) throw new Error(`tar: ${e.source} changed size while being copied`);
        } finally {
          fs.closeSync(src);
        }
      }
      pad(size);
    }
    write(Buffer.alloc(1024));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** Directory entries for every parent of `p` (`a/b/c` -> `a`, `a/b`), root-owned 0755. */
function parentDirs(p: string): TarEntry[] {
  const parts = p.split('/').filter(Boolean);
  return parts.slice(0, -1).map((_, i) => ({ name: parts.slice(0, i + 1).join('/'), type: 'dir' as const }));
}

/**
 * Entries copying the regular files of `srcDir` (recursively, sorted, without __pycache__/*.pyc) to `destDir`
 * in the image, with their parent directories.
 */
export function dirEntries(srcDir: string, destDir: string): TarEntry[] {
  const dest = destDir.replace(/^\/+|\/+$/g, '');
  const out: TarEntry[] = [...parentDirs(`${dest}/x`)];
  const walk = (rel: string): void => {
    const names = fs.readdirSync(path.join(srcDir, rel)).sort();
    for (const n of names) {
      if (n === '__pycache__' || n.endsWith('.pyc')) continue;
      const r = rel ? `${rel}/${n}` : n;
      const st = fs.statSync(path.join(srcDir, r));
      if (st.isDirectory()) {
        out.push({ name: `${dest}/${r}`, type: 'dir' });
        walk(r);
      } else if (st.isFile()) {
        out.push({ name: `${dest}/${r}`, type: 'file', source: path.join(srcDir, r), mode: st.mode & 0o111 ? 0o755 : 0o644 });
      }
    }
  };
  walk('');
  return out;
}

/** Entries for in-memory files at absolute image paths, with their parent directories (deduplicated, sorted). */
export function fileEntries(files: Record<string, string | Buffer>, mode = 0o644): TarEntry[] {
  const seen = new Set<string>();
  const out: TarEntry[] = [];
  for (const p of Object.keys(files).sort()) {
    const name = p.replace(/^\/+/, '');
    for (const d of parentDirs(name)) {
      if (seen.has(d.name)) continue;
      seen.add(d.name);
      out.push(d);
    }
    const v = files[p] as string | Buffer;
    out.push({ name, type: 'file', data: Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8'), mode });
  }
  return out;
}

export interface Layer {
  /** An uncompressed layer tar. */
  file: string;
  /** sha256 (hex) of `file`. */
  sha256: string;
}

export interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
}

export interface ImageSpec {
  /** e.g. `asya-python:e2e` (containerd stores it as docker.io/library/asya-python:e2e). */
  ref: string;
  layers: Layer[];
  config: ImageConfig;
}

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

/** The OCI image config JSON of an image (fixed creation time: same inputs, same image ID). */
function imageConfigJson(spec: ImageSpec): Buffer {
  return Buffer.from(
    JSON.stringify({
      architecture: GOARCH[process.arch] ?? process.arch,
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: spec.config,
      rootfs: { type: 'layers', diff_ids: spec.layers.map((l) => `sha256:${l.sha256}`) },
    }),
  );
}

/** A key for an archive of these images: changes whenever a config, a tag or a layer does. */
export function imagesKey(specs: ImageSpec[]): string {
  const h = crypto.createHash('sha256');
  for (const s of specs) h.update(`${s.ref}\n`).update(imageConfigJson(s)).update('\n');
  return h.digest('hex').slice(0, 16);
}

/** Writes a `docker save`-format archive of `specs` (layers shared between images are stored once). */
export function writeImageArchive(file: string, specs: ImageSpec[]): void {
  const entries: TarEntry[] = [];
  const manifest: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
  const layersSeen = new Set<string>();
  for (const s of specs) {
    const cfg = imageConfigJson(s);
    const cfgName = `${crypto.createHash('sha256').update(cfg).digest('hex')}.json`;
    entries.push({ name: cfgName, type: 'file', data: cfg });
    for (const l of s.layers) {
      if (layersSeen.has(l.sha256)) continue;
      layersSeen.add(l.sha256);
      entries.push({ name: l.sha256, type: 'dir' }, { name: `${l.sha256}/layer.tar`, type: 'file', source: l.file });
    }
    manifest.push({ Config: cfgName, RepoTags: [s.ref], Layers: s.layers.map((l) => `${l.sha256}/layer.tar`) });
  }
  entries.push({ name: 'manifest.json', type: 'file', data: Buffer.from(JSON.stringify(manifest)) });
  const tmp = `${file}.tmp.${process.pid}`;
  try {
    writeTar(tmp, entries);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** A layer tar of `entries` written to `<dir>/<name>-<sha>.tar` (kept if already there). */
export function writeLayer(dir: string, name: string, entries: TarEntry[]): Layer {
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${name}.tmp.${process.pid}.${crypto.randomBytes(4).toString('hex')}`);
  const sha256 = writeTar(tmp, entries);
  const file = path.join(dir, `${name}-${sha256.slice(0, 16)}.tar`);
  if (fs.existsSync(file)) fs.rmSync(tmp);
  else fs.renameSync(tmp, file);
  return { file, sha256 };
}

/** sha256 of a big file, remembered in `<file>.sha256` (the file never changes: its dir is keyed). */
export function cachedSha256(file: string): string {
  const memo = `${file}.sha256`;
  try {
    const v = fs.readFileSync(memo, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(v)) return v;
  } catch {
    /* not yet */
  }
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  const v = h.digest('hex');
  fs.writeFileSync(`${memo}.tmp.${process.pid}`, `${v}\n`);
  fs.renameSync(`${memo}.tmp.${process.pid}`, memo);
  return v;
}

/**
 * The archive of `specs` in the image cache, written if missing (`<prefix>-<key>.tar`); older archives with the
 * same prefix are removed so the cache does not grow with every change of a handler file.
 */
export function cachedImageArchive(imageCache: string, prefix: string, specs: ImageSpec[]): string {
  fs.mkdirSync(imageCache, { recursive: true });
  const file = path.join(imageCache, `${prefix}-${imagesKey(specs)}.tar`);
  if (!fs.existsSync(file)) {
    writeImageArchive(file, specs);
    for (const f of fs.readdirSync(imageCache)) {
      if (f.startsWith(`${prefix}-`) && f.endsWith('.tar') && path.join(imageCache, f) !== file) fs.rmSync(path.join(imageCache, f), { force: true });
    }
  }
  return file;
}

/** Imports a docker-save or OCI archive into the node's containerd (namespace k8s.io, where the CRI looks). */
export async function importImageArchive(containerdSocket: string, archive: string): Promise<void> {
  const r = await run('ctr', ['--address', containerdSocket, '--namespace', 'k8s.io', 'images', 'import', archive], { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`ctr images import ${archive} failed (exit ${r.code}):\n${r.stderr}${r.stdout}`);
}
