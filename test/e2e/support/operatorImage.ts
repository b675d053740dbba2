// The operator's image without Docker: what the Dockerfile's runtime stage holds, read from the Dockerfile itself
// and written as an image archive for the e2e node (with support/images.ts, as support/node.ts writes the other images).
//
//   FROM node:${NODE_VERSION}-bookworm-slim  -> a Debian bookworm minbase root (scripts/e2e-node-tools.sh) and
//                                               the `node` binary of the `node` devDependency, which must be
//                                               NODE_VERSION, at /usr/local/bin/node as in the node image
//   COPY --from=deps /app/node_modules       -> the deps stage's `npm ci --omit=dev ...` command, run on
//                                               package.json and package-lock.json alone (cached by their hash)
//   COPY --from=build /src/dist/src          -> dist/src of `npm run build` (the build stage's tsc command)
//   COPY package.json, ENV, WORKDIR, USER, EXPOSE, LABEL, ENTRYPOINT, CMD -> the same in the image
//
// Any other instruction in the runtime stage, or a deps/build stage that does something else, throws: the
// Dockerfile and this build cannot drift apart silently (test/e2e/incluster.e2e.test.ts checks the image too).
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cachedImageArchive, cachedSha256, dirEntries, writeLayer, type ImageConfig, type ImageSpec, type Layer, type TarEntry } from './images.js';
import { REPO_ROOT, nodeArtifacts } from './node.js';

const REPO = REPO_ROOT;

export interface DockerStage {
  name?: string;
  from: string;
  /** [instruction, arguments] in order, continuation lines joined. */
  instructions: Array<[string, string]>;
}

/** The stages of a Dockerfile, its global ARG defaults substituted into FROM. */
export function parseDockerfile(text: string): { args: Record<string, string>; stages: DockerStage[] } {
  const lines: string[] = [];
  let cur = '';
  for (const raw of text.split('\n')) {
    const l = raw.trim();
    if (!cur && (l === '' || l.startsWith('#'))) continue;
    if (l.startsWith('#')) continue;
    if (l.endsWith('\\')) {
      cur += `${l.slice(0, -1)} `;
      continue;
    }
    lines.push(cur + l);
    cur = '';
  }
  const args: Record<string, string> = {};
  const stages: DockerStage[] = [];
  for (const l of lines) {
    const m = /^(\S+)\s+([\s\S]*)$/.exec(l);
    if (!m) continue;
    const ins = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    if (ins === 'FROM') {
      const fm = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!fm) throw new Error(`Dockerfile: cannot read FROM ${rest}`);
      const from = fm[1]!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => args[(a ?? b)!] ?? '');
      stages.push({ from, ...(fm[2] ? { name: fm[2] } : {}), instructions: [] });
    } else if (stages.length === 0) {
      if (ins !== 'ARG') throw new Error(`Dockerfile: ${ins} before the first FROM`);
      const [k, v] = rest.split('=', 2);
      args[k!] = v ?? '';
    } else {
      stages[stages.length - 1]!.instructions.push([ins, rest]);
    }
  }
  return { args, stages };
}

/** `KEY=value KEY2="v 2"` pairs (LABEL, ENV). */
function keyValues(s: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const m of s.matchAll(/([\w.\-/]+)=("(?:[^"\\]|\\.)*"|\S+)/g)) out.push([m[1]!, m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!]);
  return out;
}

export interface OperatorImagePlan {
  /** NODE_VERSION of the FROM line (`node:<it>-bookworm-slim`). */
  nodeVersion: string;
  debianSuite: string;
  /** The deps stage's install command, e.g. `npm ci --omit=dev --ignore-scripts --no-audit --no-fund`. */
  depsCommand: string[];
  depsEnv: Record<string, string>;
  /** The build stage's compiler command (`npx tsc -p tsconfig.build.json`). */
  buildCommand: string;
  /** Destination in the image (absolute) <- what: `deps:node_modules`, `build:dist/src`, or a repository file. */
  copies: Array<{ dest: string; what: string }>;
  config: ImageConfig & { ExposedPorts?: Record<string, object>; Labels?: Record<string, string> };
}

/** What the runtime (last) stage of the Dockerfile puts in the image; throws on what this build cannot repeat. */
export function planFromDockerfile(text: string): OperatorImagePlan {
  const { stages } = parseDockerfile(text);
  const runtime = stages[stages.length - 1];
  if (!runtime) throw new Error('Dockerfile: no stage');
  const fm = /^node:(\d+\.\d+\.\d+)-(\w+)-slim$/.exec(runtime.from);
  if (!fm) throw new Error(`Dockerfile: the runtime stage is FROM ${runtime.from}; the e2e build knows node:<version>-<debian>-slim only`);
  const stage = (name: string): DockerStage => {
    const s = stages.find((x) => x.name === name);
    if (!s) throw new Error(`Dockerfile: no stage ${name}`);
    return s;
  };
  const runOf = (s: DockerStage): string => s.instructions.filter(([i]) => i === 'RUN').map(([, r]) => r).join(' && ');
  const deps = stage('deps');
  const depsRun = runOf(deps);
  const npmCi = /npm ci((?:\s+--[\w-]+(?:=\S+)?)*)/.exec(depsRun);
  if (!npmCi || !/--omit=dev/.test(npmCi[1] ?? '')) throw new Error(`Dockerfile: the deps stage does not run npm ci --omit=dev: ${depsRun}`);
  const depsEnv = Object.fromEntries(deps.instructions.filter(([i]) => i === 'ENV').flatMap(([, r]) => keyValues(r)));
  const buildRun = runOf(stage('build'));
  if (!/tsc -p tsconfig\.build\.json/.test(buildRun)) throw new Error(`Dockerfile: the build stage does not compile with tsc -p tsconfig.build.json (as npm run build): ${buildRun}`);

  const plan: OperatorImagePlan = {
    nodeVersion: fm[1]!,
    debianSuite: fm[2]!,
    depsCommand: ['npm', 'ci', ...(npmCi[1] ?? '').trim().split(/\s+/).filter(Boolean)],
    depsEnv,
    buildCommand: 'npx tsc -p tsconfig.build.json',
    copies: [],
    config: {
      // As the official node image's config: PATH, and where node is.
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `NODE_VERSION=${fm[1]!}`],
    },
  };
  let workdir = '/';
  const abs = (p: string): string => (p.startsWith('/') ? p : path.posix.join(workdir, p));
  for (const [ins, rest] of runtime.instructions) {
    switch (ins) {
      case 'LABEL':
        plan.config.Labels = { ...(plan.config.Labels ?? {}), ...Object.fromEntries(keyValues(rest)) };
        break;
      case 'ENV':
        for (const [k, v] of keyValues(rest)) plan.config.Env = [...(plan.config.Env ?? []).filter((e) => !e.startsWith(`${k}=`)), `${k}=${v}`];
        break;
      case 'WORKDIR':
        workdir = abs(rest);
        plan.config.WorkingDir = workdir;
        break;
      case 'COPY': {
        const parts = rest.split(/\s+/);
        const from = parts.find((p) => p.startsWith('--from='))?.slice('--from='.length);
        const rest2 = parts.filter((p) => !p.startsWith('--'));
        if (rest2.length !== 2) throw new Error(`Dockerfile: COPY ${rest}: one source and one destination only`);
        const [src, dst] = rest2 as [string, string];
        const dest = dst.endsWith('/') ? path.posix.join(abs(dst), path.posix.basename(src)) : abs(dst);
        if (from === 'deps' && src === `${deps.instructions.find(([i]) => i === 'WORKDIR')?.[1] ?? '/app'}/node_modules`) plan.copies.push({ dest, what: 'deps:node_modules' });
        else if (from === 'build' && src === `${stage('build').instructions.find(([i]) => i === 'WORKDIR')?.[1] ?? '/src'}/dist/src`) plan.copies.push({ dest, what: 'build:dist/src' });
        else if (!from && fs.existsSync(path.join(REPO, src)) && fs.statSync(path.join(REPO, src)).isFile()) plan.copies.push({ dest, what: src });
        else throw new Error(`Dockerfile: COPY ${rest}: the e2e image build does not know this source`);
        break;
      }
      case 'USER':
        plan.config.User = rest;
        break;
      case 'EXPOSE':
        plan.config.ExposedPorts = Object.fromEntries(rest.split(/\s+/).map((p) => [p.includes('/') ? p : `${p}/tcp`, {}]));
        break;
      case 'ENTRYPOINT':
        plan.config.Entrypoint = JSON.parse(rest) as string[];
        break;
      case 'CMD':
        plan.config.Cmd = JSON.parse(rest) as string[];
        break;
      default:
        throw new Error(`Dockerfile: the runtime stage has ${ins} ${rest}, which the e2e image build (test/e2e/support/operatorImage.ts) does not repeat`);
    }
  }
  return plan;
}

export interface OperatorImage {
  ref: string;
  archive: string;
  plan: OperatorImagePlan;
  /** Bytes of the image's layers, uncompressed (what the node stores). */
  layerBytes: number;
  /** Bytes of the gzip-compressed layers (what a registry would store), estimated by compressing them. */
  compressedBytes?: number;
}

const hashFiles = (files: string[]): string => {
  const h = crypto.createHash('sha256');
  for (const f of files) h.update(f).update('\0').update(fs.readFileSync(f)).update('\0');
  return h.digest('hex').slice(0, 16);
};

function treeHash(dir: string): string {
  const h = crypto.createHash('sha256');
  const walk = (rel: string): void => {
    for (const n of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      const st = fs.statSync(path.join(dir, r));
      if (st.isDirectory()) walk(r);
      else h.update(r).update('\0').update(fs.readFileSync(path.join(dir, r))).update('\0');
    }
  };
  walk('');
  return h.digest('hex').slice(0, 16);
}

/** The production node_modules of the deps stage, installed once per package.json/package-lock.json and command. */
function productionDeps(plan: OperatorImagePlan, cacheRoot: string): string {
  const key = crypto
    .createHash('sha256')
    .update(hashFiles([path.join(REPO, 'package.json'), path.join(REPO, 'package-lock.json')]))
    .update(JSON.stringify([plan.depsCommand, plan.depsEnv]))
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(cacheRoot, `operator-deps-${key}`);
  if (fs.existsSync(path.join(dir, 'node_modules'))) return path.join(dir, 'node_modules');
  const tmp = `${dir}.tmp.${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(REPO, f), path.join(tmp, f));
  const npm = spawnSync(plan.depsCommand[0]!, plan.depsCommand.slice(1), {
    cwd: tmp,
    env: { ...process.env, ...plan.depsEnv, npm_config_update_notifier: 'false' },
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (npm.status !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`${plan.depsCommand.join(' ')} failed (exit ${npm.status}):\n${npm.stderr}${npm.stdout}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  // Installs of older lock files, unused for an hour, are removed.
  pruneOlderThanAnHour(cacheRoot, (f) => /^operator-deps-[0-9a-f]+$/.test(f) && path.join(cacheRoot, f) !== dir);
  return path.join(dir, 'node_modules');
}

/** The Node binary of the `node` devDependency; its version must be the Dockerfile's NODE_VERSION. */
function nodeBinary(version: string): string {
  const bin = path.join(REPO, 'node_modules', 'node', 'bin', 'node');
  const v = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout?.trim();
  if (v !== `v${version}`) throw new Error(`${bin} is ${v ?? 'missing'}, the Dockerfile's runtime is node ${version}: run npm ci, or align package.json's node devDependency with NODE_VERSION`);
  return bin;
}

/**
 * Writes the operator image `ref` (default: the chart's default image, `asya-operator:<appVersion>`) as an
 * archive in the node's image cache, from the compiled dist/src (run `npm run build` first) and the Dockerfile.
 */
export function buildOperatorImage(opts: { ref?: string; dockerfile?: string } = {}): OperatorImage {
  const plan = planFromDockerfile(fs.readFileSync(opts.dockerfile ?? path.join(REPO, 'Dockerfile'), 'utf8'));
  const appVersion = /^appVersion:\s*"?([^"\s]+)"?/m.exec(fs.readFileSync(path.join(REPO, 'charts', 'asya-operator', 'Chart.yaml'), 'utf8'))?.[1];
  const ref = opts.ref ?? `asya-operator:${appVersion}`;
  const a = nodeArtifacts();
  if (!a.debianRootfs || !fs.existsSync(a.debianRootfs)) throw new Error(`${a.debianRootfs ?? 'the Debian root'} is missing: run bash scripts/e2e-node-tools.sh`);
  if (plan.debianSuite !== 'bookworm') throw new Error(`the Dockerfile's base is Debian ${plan.debianSuite}; scripts/e2e-node-tools.sh builds bookworm`);
  const dist = path.join(REPO, 'dist', 'src');
  if (!fs.existsSync(path.join(dist, 'cli', 'main.js'))) throw new Error(`${dist}/cli/main.js is missing: run npm run build`);
  const cacheRoot = path.dirname(a.imageCache);
  const layers = path.join(a.imageCache, 'layers');

  const base: Layer = { file: a.debianRootfs, sha256: cachedSha256(a.debianRootfs) };
  const node = writeLayer(layers, 'operator-node', [
    { name: 'usr', type: 'dir' },
    { name: 'usr/local', type: 'dir' },
    { name: 'usr/local/bin', type: 'dir' },
    { name: 'usr/local/bin/node', type: 'file', source: nodeBinary(plan.nodeVersion), mode: 0o755 },
  ]);
  // One layer for the application (COPY instructions, root-owned as COPY without --chown), cached by content.
  const deps = productionDeps(plan, cacheRoot);
  const sources: Record<string, string> = { 'deps:node_modules': deps, 'build:dist/src': dist };
  const appKey = crypto.createHash('sha256').update(deps).update(treeHash(dist)).update(JSON.stringify(plan.copies)).update(hashFiles(plan.copies.filter((c) => !c.what.includes(':')).map((c) => path.join(REPO, c.what)))).digest('hex').slice(0, 16);
  const appLayerFile = path.join(layers, `operator-app-${appKey}.layer`);
  let app: Layer;
  if (fs.existsSync(appLayerFile)) {
    app = JSON.parse(fs.readFileSync(appLayerFile, 'utf8')) as Layer;
  } else {
    const entries: TarEntry[] = [];
    const seen = new Set<string>();
    const push = (e: TarEntry): void => {
      if (e.type === 'dir' && seen.has(e.name)) return;
      seen.add(e.name);
      entries.push(e);
    };
    if (plan.config.WorkingDir) for (const d of dirChain(plan.config.WorkingDir)) push({ name: d, type: 'dir' });
    for (const c of plan.copies) {
      const src = sources[c.what] ?? path.join(REPO, c.what);
      if (fs.statSync(src).isDirectory()) for (const e of dirEntries(src, c.dest)) push(e);
      else {
        for (const d of dirChain(path.posix.dirname(c.dest))) push({ name: d, type: 'dir' });
        push({ name: c.dest.replace(/^\/+/, ''), type: 'file', source: src });
      }
    }
    app = writeLayer(layers, 'operator-app', entries);
    fs.writeFileSync(appLayerFile, JSON.stringify(app));
    // Each change of dist/src makes a new application layer: older ones (unused for an hour, so not those of
    // another run going on now) are removed.
    pruneOlderThanAnHour(layers, (f) => f.startsWith('operator-app-') && path.join(layers, f) !== app.file && path.join(layers, f) !== appLayerFile);
  }
  const spec: ImageSpec = { ref, layers: [base, node, app], config: plan.config };
  const archive = cachedImageArchive(a.imageCache, 'operator-image', [spec]);
  const layerBytes = spec.layers.reduce((n, l) => n + fs.statSync(l.file).size, 0);
  return { ref, archive, plan, layerBytes };
}

/** Removes the entries of `dir` that `pick` selects and that were last modified over an hour ago. */
function pruneOlderThanAnHour(dir: string, pick: (name: string) => boolean): void {
  for (const f of fs.readdirSync(dir)) {
    const p = path.join(dir, f);
    try {
      if (pick(f) && Date.now() - fs.statSync(p).mtimeMs > 3_600_000) fs.rmSync(p, { recursive: true, force: true });
    } catch {
      /* gone meanwhile */
    }
  }
}

/** `a/b/c` -> `a`, `a/b`, `a/b/c` (without leading slash). */
function dirChain(p: string): string[] {
  const parts = p.split('/').filter(Boolean);
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** gzip size of the image's layers (what a registry would hold), for the README's figure. */
export function compressedSize(image: OperatorImage): number {
  const zlib = spawnSync('sh', ['-c', `tar -xOf "$1" --wildcards '*/layer.tar' | gzip -6 | wc -c`, 'sh', image.archive], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return Number(zlib.stdout.trim());
}
