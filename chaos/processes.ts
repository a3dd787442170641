// The processes of a stack, as the chaos runs and `npm run cluster` spawn, kill (SIGKILL: `kill -9`)
// and restart them: the Temporal dev server or the cluster's services and PostgreSQL, worker
// processes and webhook receivers. Each appends its output to a log file, for the evidence of a
// failure. Also the probes their readiness checks share and the environment every child gets.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createConnection } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { Connection } from '@temporalio/client';

/** Polls `probe` every `everyMs` until it resolves true; throws `what` after `timeoutMs`. */
export async function waitFor(
  probe: () => Promise<boolean>,
  what: string,
  {
    timeoutMs = 60_000,
    everyMs = 250,
    signal,
  }: { timeoutMs?: number; everyMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) throw new Error(`stopped waiting for ${what}`);
    if (await probe()) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(everyMs);
  }
}

/** Variables a child inherits from the caller: the basics, none of the caller's project settings. */
const INHERITED = ['PATH', 'HOME', 'USER', 'LANG', 'TZ', 'TMPDIR', 'NODE_OPTIONS'];

/**
 * The environment of a child: the basics of the caller's ({@link INHERITED}) and `own`, so a
 * `TEMPORAL_ADDRESS` or `LOG_LEVEL` in the caller's shell reaches no process of the stack.
 */
export function childEnv(own: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of INHERITED) if (process.env[key] !== undefined) env[key] = process.env[key];
  return { ...env, ...own };
}

/** Every child this process started and has not seen exit: killed if the run is interrupted. */
const live = new Set<ChildProcess>();

/** SIGKILLs every child still alive (synchronous: usable in an `exit` handler). */
export function killChildren(): void {
  for (const child of live) child.kill('SIGKILL');
}

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  logPath: string;
  /**
   * Resolves once the process serves; `output` is everything it printed since this start;
   * `signal` aborts when the start failed otherwise (stop probing).
   */
  ready(output: () => string, signal: AbortSignal): Promise<void>;
  readyTimeoutMs?: number;
}

/** One restartable child process. */
export class Service {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly log: WriteStream;
  /** Starts so far. */
  starts = 0;
  /** `kill -9`s so far. */
  kills = 0;
  /** Exits nobody asked for (each is followed by a restart while supervised). */
  crashes = 0;
  private expectingExit = false;
  private supervised = false;
  /** Between spawn and ready: an exit then fails `start()` instead of counting as a crash. */
  private starting = false;

  constructor(private readonly spec: ServiceSpec) {
    this.log = createWriteStream(spec.logPath, { flags: 'a' });
  }

  get name(): string {
    return this.spec.name;
  }

  /** Started and ready, and not exited since. */
  get running(): boolean {
    return this.child !== undefined && this.ready;
  }

  private ready = false;

  /** Spawns the process and waits until it is ready; throws with its output if it dies first. */
  async start(): Promise<void> {
    if (this.child) throw new Error(`${this.spec.name} is already running`);
    this.starts++;
    this.log.write(`\n---- ${new Date().toISOString()} start #${this.starts} ----\n`);
    let output = '';
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: this.spec.cwd,
      env: this.spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    live.add(child);
    const onData = (chunk: Buffer) => {
      this.log.write(chunk);
      if (output.length < 64 * 1024) output += chunk.toString('utf8');
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    let exitCode: string | undefined;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(child);
        this.ready = false;
        exitCode = signal ?? String(code);
        this.log.write(`\n---- exited: ${exitCode} ----\n`);
        if (this.child === child) this.child = undefined;
        resolve();
        if (!this.expectingExit && !this.starting && this.supervised) {
          this.crashes++;
          this.startUntilReady().catch((error: unknown) =>
            this.log.write(`\n---- restart after a crash failed: ${String(error)} ----\n`),
          );
        }
      });
    });
    const died = this.exited.then(() => {
      throw new Error(
        `${this.spec.name} exited (${exitCode}) before it was ready:\n${output.slice(-2000)}`,
      );
    });
    const timeoutMs = this.spec.readyTimeoutMs ?? 90_000;
    this.starting = true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`${this.spec.name} not ready after ${timeoutMs} ms:\n${output.slice(-2000)}`),
          ),
        timeoutMs,
      );
    });
    const probing = new AbortController();
    const ready = this.spec.ready(() => output, probing.signal);
    ready.catch(() => undefined); // a probe outliving a failed start rejects into nothing
    try {
      await Promise.race([ready, died, timedOut]);
      this.ready = true;
    } finally {
      probing.abort();
      clearTimeout(timer);
      this.starting = false;
      // Later exits are kills or crashes, handled by the exit listener.
      died.catch(() => undefined);
    }
  }

  /**
   * Starts, retrying (a worker cannot connect while the dev server is down) until ready or
   * `attempts` run out; from then on an exit nobody asked for is restarted the same way.
   */
  async startUntilReady(attempts = 20): Promise<void> {
    this.supervised = true;
    for (let attempt = 1; ; attempt++) {
      this.expectingExit = false;
      try {
        await this.start();
        return;
      } catch (error) {
        if (attempt >= attempts) throw error;
        this.log.write(`\n---- start failed (attempt ${attempt}): ${String(error)} ----\n`);
        this.expectingExit = true;
        await this.kill9Quietly();
        await delay(1000);
      }
    }
  }

  private async kill9Quietly(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** `kill -9` and wait for the exit (not restarted: the caller decides when). */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.kills++;
    this.expectingExit = true;
    child.kill('SIGKILL');
    await this.exited;
  }

  /**
   * `signal` (SIGTERM: graceful; PostgreSQL takes SIGINT as its fast shutdown), then SIGKILL after
   * `graceMs`; not restarted.
   */
  async stop(graceMs = 10_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.supervised = false;
    this.expectingExit = true;
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Closes the log file (after the process has stopped). */
  async closeLog(): Promise<void> {
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}

/** Something accepts TCP connections on 127.0.0.1:`port`. */
export function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Temporal answers gRPC on 127.0.0.1:`port`: a describe of `namespace` succeeds (on a cluster's
 * frontend, `temporal-system` answers once history and matching do).
 */
export async function temporalAnswers(
  port: number,
  { namespace = 'default', deadlineMs = 2000 } = {},
): Promise<boolean> {
  if (!(await tcpOpen(port))) return false;
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address: `127.0.0.1:${port}`, connectTimeout: 2000 });
    await connection.withDeadline(Date.now() + deadlineMs, () =>
      connection!.workflowService.describeNamespace({ namespace }),
    );
    return true;
  } catch (error) {
    if (error instanceof Error) return false;
    throw error;
  } finally {
    await connection?.close();
  }
}

/** The receiver's /healthz answers 200. */
export async function httpOk(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.ok;
  } catch (error) {
    if (error instanceof Error) return false;
    throw error;
  }
}
