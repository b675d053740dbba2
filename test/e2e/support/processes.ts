/**
 * Process helpers of the e2e control plane (controlPlane.ts) and node (node.ts): running commands, starting
 * and stopping logged background processes, cleanup when the test process exits or is killed, small HTTP
 * probes. Node built-ins only and only erasable TypeScript syntax: Node loads this file directly (globalSetup,
 * scripts/control-plane.ts, node.ts's watchdog).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  cwd?: string;
  /** Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** SIGKILL the command after this long (its code is then 137). Default: no limit. */
  timeoutMs?: number;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs a command to its end; never throws (127 if it cannot start, 128 + signal if killed). */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => resolve({ code: 127, stdout: '', stderr: `${cmd}: ${e.message}` }));
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        code: code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** `run` that throws with the command's output unless it exits 0; resolves with its stdout. */
export async function mustRun(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.code}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** The last `lines` lines of a log, for error messages. */
export function tail(file: string, lines = 60): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Field 22 of /proc/<pid>/stat: with the PID it names one process, also after the PID is reused. */
export function procStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** `process.kill` that ignores a process already gone. */
export function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
}

/* ------------------------------------------------------------------------ */
/* Background processes.                                                    */
/* ------------------------------------------------------------------------ */

/** A background process started by `spawnLogged`. */
export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Its stdout and stderr. */
  logFile: string;
  exited: boolean;
  /** Resolves once it has exited (or failed). */
  exit: Promise<void>;
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
}

/**
 * Starts `cmd` in the background, its output appended to `opts.logFile` after a `### <time> <cmd> <args>` line;
 * unref'd, so it never keeps this process alive. Throws (with the log's tail) if it cannot be spawned.
 */
export function spawnLogged(name: string, cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; logFile: string }): ManagedProcess {
  const logFile = opts.logFile;
  const fd = fs.openSync(logFile, 'a');
  fs.writeSync(fd, `### ${new Date().toISOString()} ${cmd} ${args.join(' ')}\n`);
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', fd, fd] });
  } finally {
    fs.closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`failed to spawn ${cmd}\n${tail(logFile)}`);
  const proc: ManagedProcess = { name, child, pid: child.pid, logFile, exited: false, exit: Promise.resolve(), exitCode: null, exitSignal: null };
  proc.exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      proc.exited = true;
      proc.exitCode = code;
      proc.exitSignal = signal;
      resolve();
    });
    child.once('error', () => {
      proc.exited = true;
      resolve();
    });
  });
  child.unref();
  return proc;
}

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`; then waits at most 2 s more. */
export async function terminate(proc: ManagedProcess, graceMs: number): Promise<void> {
  if (proc.exited) return;
  kill(proc.pid, 'SIGTERM');
  const timedOut = await Promise.race([proc.exit.then(() => false), sleep(graceMs).then(() => true)]);
  if (timedOut && !proc.exited) {
    kill(proc.pid, 'SIGKILL');
    await Promise.race([proc.exit, sleep(2_000)]);
  }
}

/* ------------------------------------------------------------------------ */
/* Cleanup when this process exits or is killed.                            */
/* ------------------------------------------------------------------------ */

const exitCleanups = new Set<() => void>();

/**
 * Runs `cleanup` (synchronous) when this process exits, and on SIGINT, SIGTERM and SIGHUP. Only takes over a
 * signal nobody else handles; then keeps its default outcome (the process dies of that signal) after
 * `cleanup`. Once per function.
 */
export function onExitOrSignal(cleanup: () => void): void {
  if (exitCleanups.has(cleanup)) return;
  exitCleanups.add(cleanup);
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    if (process.listenerCount(sig) > 0) continue;
    const handler = (): void => {
      cleanup();
      process.removeListener(sig, handler);
      process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}

/**
 * A small detached Node process that outlives us if we are SIGKILLed: once a second it checks that we are
 * still its parent, and when we are gone runs `onOrphaned`, a script body that sees `fs` and `args` (the
 * strings given here) and ends with `process.exit`. Stop it with SIGKILL.
 */
export function startWatchdog(onOrphaned: string, args: string[]): ChildProcess {
  const script = `
    const fs = require('fs');
    const [parent, args] = [Number(process.argv[1]), process.argv.slice(2)];
    const alive = () => { try { process.kill(parent, 0); return process.ppid === parent; } catch { return false; } };
    const timer = setInterval(() => {
      if (alive()) return;
      clearInterval(timer);
      ${onOrphaned}
    }, 1000);
  `;
  const child = spawn(process.execPath, ['-e', script, String(process.pid), ...args], { stdio: 'ignore', detached: true });
  child.unref();
  return child;
}

/* ------------------------------------------------------------------------ */
/* HTTP probes: a status code, 0 when nothing answers.                      */
/* ------------------------------------------------------------------------ */

/** Plain-HTTP GET with the global fetch. */
export async function httpStatus(url: string, timeoutMs: number): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** GET over HTTPS, verified with `ca` (or not at all with `insecure`), with a bearer `token` if given. */
export function httpsGet(url: string, opts: { ca?: Buffer; token?: string; insecure?: boolean; timeoutMs: number }): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = https.get(
      url,
      {
        ca: opts.ca,
        rejectUnauthorized: !opts.insecure,
        headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {},
        timeout: opts.timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (b: Buffer) => chunks.push(b));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', () => resolve({ status: 0, body: '' }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}
