// The production shape on one machine, as child processes: PostgreSQL (Debian's, as the postgres
// user, on its own data directory and port), the Temporal services from go.temporal.io/server as
// separate processes (frontend, matching, ≥ 2 history, worker) on PostgreSQL persistence and
// visibility, the namespace and search attributes from `durable-billing setup`, billing workers
// and webhook receivers behind a round-robin proxy, and the Stripe simulator. Used by
// `npm run cluster`, the cluster tests and `npm run chaos -- --cluster`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { join } from 'node:path';
import { bundleWorkflows } from '../src/embedded/bundle.js';
import { CACHE_DIR } from '../src/embedded/servers.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../src/simulator/index.js';
import { REPO_ROOT } from '../chaos/stack.js';
import {
  childEnv,
  httpOk,
  Service,
  tcpOpen,
  temporalAnswers,
  waitFor,
} from '../chaos/processes.js';
import {
  provisionCluster,
  TEMPORAL_SERVER_VERSION,
  type ClusterManifest,
} from './provision-cluster.js';

/** The settings both this stack and docker-compose.yml give the Temporal server. */
export const SERVER_ENV_FILE = join(REPO_ROOT, 'deploy', 'temporal', 'server.env');
export const DYNAMIC_CONFIG_FILE = join(REPO_ROOT, 'deploy', 'temporal', 'dynamicconfig.yaml');

/** Every port the stack listens on (all on 127.0.0.1). */
export interface ClusterPorts {
  postgres: number;
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  matching: number;
  matchingMembership: number;
  /** One gRPC + membership pair per history process. */
  history: { grpc: number; membership: number }[];
  worker: number;
  workerMembership: number;
  /** The round-robin proxy in front of the receivers: the webhook URL Stripe is given. */
  webhook: number;
  receivers: number[];
  simulator: number;
}

/** The defaults of `npm run cluster`: the frontend on Temporal's own 7233, the rest next to it. */
export function defaultPorts(frontend = 7233): ClusterPorts {
  return {
    postgres: 55432,
    frontend,
    frontendHttp: 7243,
    frontendMembership: 6933,
    matching: 7235,
    matchingMembership: 6935,
    history: [
      { grpc: 7234, membership: 6934 },
      { grpc: 7244, membership: 6944 },
    ],
    worker: 7239,
    workerMembership: 6939,
    webhook: 3000,
    receivers: [3001, 3002],
    simulator: 12111,
  };
}

/** A free port below 32768: Temporal keeps membership ports in a smallint column (cluster_membership). */
async function lowFreePort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) {
      taken.add(port);
      return port;
    }
  }
}

/** Free ports for every process of a stack (the tests' and the chaos run's, beside any other). */
export async function freeClusterPorts(): Promise<ClusterPorts> {
  const taken = new Set<number>();
  const p = () => lowFreePort(taken);
  return {
    postgres: await p(),
    frontend: await p(),
    frontendHttp: await p(),
    frontendMembership: await p(),
    matching: await p(),
    matchingMembership: await p(),
    history: [
      { grpc: await p(), membership: await p() },
      { grpc: await p(), membership: await p() },
    ],
    worker: await p(),
    workerMembership: await p(),
    webhook: await p(),
    receivers: [await p(), await p()],
    simulator: await p(),
  };
}

export interface ClusterOptions {
  /** PostgreSQL data, logs, outboxes, the workflow bundle; default <cache>/cluster-<version>. */
  dataDir?: string;
  ports?: ClusterPorts;
  namespace?: string;
  taskQueue?: string;
  /** Billing worker processes ("hosts"); default 2. */
  workers?: number;
  webhookSecret?: string;
  /** Extra environment for the billing workers (e.g. NOTIFICATIONS_DATABASE_URL). */
  workerEnv?: Record<string, string>;
  simulator?: Omit<SimulatorOptions, 'port' | 'webhook'>;
  /**
   * A simulator the caller started (and closes) instead of the stack's own: the chaos run's, whose
   * webhooks go through its wire tap to {@link ClusterAddresses.webhookUrl}.
   */
  sim?: Simulator;
  /** A workflow bundle the caller built from this tree (WORKFLOW_BUNDLE_PATH of every worker). */
  workflowBundle?: string;
  /** Start no billing workers, receivers or simulator (the Temporal cluster alone). */
  temporalOnly?: boolean;
  /** PostgreSQL alone (with the temporal role): for the notification store's tests. */
  postgresOnly?: boolean;
  /** Run the workers and receivers from src/ through tsx even when a dist/ build exists. */
  fromSource?: boolean;
  progress?: (line: string) => void;
}

/** The addresses `npm run cluster` prints. */
export interface ClusterAddresses {
  temporal: string;
  temporalHttp: string;
  namespace: string;
  taskQueue: string;
  postgres: string;
  webhookUrl: string;
  receivers: string[];
  simulator: string;
  logs: string;
}

export interface Cluster {
  manifest: ClusterManifest;
  addresses: ClusterAddresses;
  ports: ClusterPorts;
  dataDir: string;
  postgres: Service;
  /** frontend, matching, history-0, history-1, …, worker. */
  temporal: Service[];
  workers: Service[];
  receivers: Service[];
  sim: Simulator | undefined;
  webhookSecret: string;
  /** `postgresql://temporal:temporal@127.0.0.1:<port>/<database>`. */
  databaseUrl(database: string): string;
  /** Every process except PostgreSQL, stopped in order (receivers, workers, Temporal), then PostgreSQL. */
  stop(): Promise<void>;
}

/** The role Temporal (and the notification store) log in as. Loopback only. */
const DB_USER = 'temporal';
const DB_PASSWORD = 'temporal';
const SERVICE_GRACE_MS = 10_000;
/** The database of the workers' outbox and sent-log, shared by every worker host. */
export const NOTIFICATIONS_DATABASE = 'billing_notifications';

/** `KEY=value` lines of an env file (comments and blank lines skipped). */
export function readEnvFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    if (eq > 0) env[trimmed.slice(0, eq)] = trimmed.slice(eq + 1);
  }
  return env;
}

function ids(user: string): { uid: number; gid: number } {
  const uid = Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid))
    throw new Error(
      `no ${user} user: install Debian's postgresql package (npm run cluster does as root)`,
    );
  return { uid, gid };
}

/** As the postgres user (PostgreSQL refuses root); setpriv execs, so a kill reaches postgres itself. */
function asPostgres(command: string, args: string[]): { command: string; args: string[] } {
  if (process.getuid?.() !== 0) return { command, args };
  return {
    command: 'setpriv',
    args: ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', command, ...args],
  };
}

function mustRun(command: string, args: string[], what: string, env?: NodeJS.ProcessEnv): string {
  const result = spawnSync(command, args, { encoding: 'utf8', env: env ?? process.env });
  if (result.status !== 0)
    throw new Error(
      `${what} failed (exit ${result.status}): ${(result.stderr || result.stdout).trim()}`,
    );
  return result.stdout;
}

/**
 * A data directory the postgres user owns, under a home it may not otherwise enter: the parents
 * get an ACL entry that lets postgres traverse them, nothing more.
 */
function preparePostgresDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true });
  if (process.getuid?.() !== 0) return;
  const { uid, gid } = ids('postgres');
  mustRun('chown', ['-R', `${uid}:${gid}`, dataDir], `chown of ${dataDir}`);
  const parents: string[] = [];
  for (let dir = join(dataDir, '..'); dir !== '/'; dir = join(dir, '..')) parents.push(dir);
  for (const dir of parents)
    if ((statSync(dir).mode & 0o001) === 0)
      mustRun('setfacl', ['-m', 'u:postgres:x', dir], `setfacl on ${dir}`);
}

/** The frontend serves and knows its system namespace (history and matching answer through it). */
export function frontendServes(port: number): Promise<boolean> {
  return temporalAnswers(port, { namespace: 'temporal-system', deadlineMs: 3000 });
}

/**
 * A round-robin HTTP proxy to the receivers (the load balancer in front of a receiver fleet): a
 * receiver that refuses the connection is skipped for the next; the body is passed through byte
 * for byte (the signature covers it).
 */
export async function startRoundRobinProxy(port: number, targets: () => number[]): Promise<Server> {
  let next = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const ports = targets();
      const attempt = (tries: number) => {
        const target = ports[next++ % Math.max(ports.length, 1)];
        if (target === undefined || tries > ports.length) {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end('{"error":"no receiver answered"}');
          return;
        }
        const upstream = httpRequest(
          {
            host: '127.0.0.1',
            port: target,
            method: req.method,
            path: req.url,
            headers: { ...req.headers, 'content-length': String(body.length) },
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.once('error', () => attempt(tries + 1));
        upstream.end(body);
      };
      attempt(1);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

/** Starts the stack; every step is idempotent on an existing data directory. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const progress = options.progress ?? (() => {});
  const manifest = provisionCluster();
  const dataDir = options.dataDir ?? join(CACHE_DIR, `cluster-${TEMPORAL_SERVER_VERSION}`);
  const ports = options.ports ?? defaultPorts();
  const namespace = options.namespace ?? 'default';
  const taskQueue = options.taskQueue ?? 'billing';
  const webhookSecret = options.webhookSecret ?? 'whsec_cluster';
  const logs = join(dataDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const bin = (name: string) => join(manifest.postgresBin, name);
  const pgData = join(dataDir, 'postgres');
  const socketDir = pgData;
  const started: Service[] = [];
  const databaseUrl = (database: string) =>
    `postgresql://${DB_USER}:${DB_PASSWORD}@127.0.0.1:${ports.postgres}/${database}`;

  // PostgreSQL: one cluster for Temporal's persistence and visibility databases (and ours).
  if (!existsSync(join(pgData, 'PG_VERSION'))) {
    progress(`initdb ${pgData}`);
    preparePostgresDir(pgData);
    const init = asPostgres(bin('initdb'), [
      '-D',
      pgData,
      '-U',
      'postgres',
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
    ]);
    mustRun(init.command, init.args, 'initdb');
  }
  const pg = asPostgres(bin('postgres'), [
    '-D',
    pgData,
    '-p',
    String(ports.postgres),
    '-k',
    socketDir,
    '-c',
    'listen_addresses=127.0.0.1',
    // Five Temporal processes at up to 30 connections each, the notification store, psql.
    '-c',
    'max_connections=300',
  ]);
  const postgres = new Service({
    name: 'postgres',
    command: pg.command,
    args: pg.args,
    env: childEnv({}),
    cwd: dataDir,
    logPath: join(logs, 'postgres.log'),
    ready: (_, signal) =>
      waitFor(
        async () =>
          spawnSync(bin('pg_isready'), ['-h', '127.0.0.1', '-p', String(ports.postgres)]).status ===
          0,
        'PostgreSQL',
        { signal },
      ),
  });
  const stopAll = async () => {
    for (const service of [...started].reverse()) await service.stop(SERVICE_GRACE_MS);
    await Promise.all(started.map((s) => s.closeLog()));
  };
  try {
    progress(`PostgreSQL on 127.0.0.1:${ports.postgres}`);
    await postgres.startUntilReady(3);
    started.push(postgres);
    const psql = (sql: string) => {
      const { command, args } = asPostgres(bin('psql'), [
        '-h',
        socketDir,
        '-p',
        String(ports.postgres),
        '-U',
        'postgres',
        '-d',
        'postgres',
        '-v',
        'ON_ERROR_STOP=1',
        '-qAtc',
        sql,
      ]);
      return mustRun(command, args, `psql: ${sql}`);
    };
    if (psql(`SELECT 1 FROM pg_roles WHERE rolname = '${DB_USER}'`).trim() !== '1')
      psql(`CREATE ROLE ${DB_USER} LOGIN CREATEDB PASSWORD '${DB_PASSWORD}'`);
    // The billing workers' notification store (NOTIFICATIONS_DATABASE_URL), beside Temporal's.
    if (
      psql(`SELECT 1 FROM pg_database WHERE datname = '${NOTIFICATIONS_DATABASE}'`).trim() !== '1'
    )
      psql(`CREATE DATABASE ${NOTIFICATIONS_DATABASE} OWNER ${DB_USER}`);
    if (options.postgresOnly)
      return {
        manifest,
        addresses: {
          temporal: '',
          temporalHttp: '',
          namespace,
          taskQueue,
          postgres: `127.0.0.1:${ports.postgres}`,
          webhookUrl: '',
          receivers: [],
          simulator: '',
          logs,
        },
        ports,
        dataDir,
        postgres,
        temporal: [],
        workers: [],
        receivers: [],
        sim: undefined,
        webhookSecret,
        databaseUrl,
        stop: stopAll,
      };
    const serverEnv = readEnvFile(SERVER_ENV_FILE);
    applySchema(manifest, ports.postgres, serverEnv, progress);

    // The Temporal services, one process each, sharing the module's config template.
    const env = childEnv({
      ...serverEnv,
      POSTGRES_SEEDS: '127.0.0.1',
      DB_PORT: String(ports.postgres),
      POSTGRES_PORT: String(ports.postgres),
      POSTGRES_USER: DB_USER,
      POSTGRES_PWD: DB_PASSWORD,
      BIND_ON_IP: '127.0.0.1',
      TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
      DYNAMIC_CONFIG_FILE_PATH: DYNAMIC_CONFIG_FILE,
      FRONTEND_GRPC_PORT: String(ports.frontend),
      FRONTEND_HTTP_PORT: String(ports.frontendHttp),
      FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
      MATCHING_GRPC_PORT: String(ports.matching),
      MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
      WORKER_GRPC_PORT: String(ports.worker),
      WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
    });
    const temporalService = (name: string, service: string, port: number, extra = {}) =>
      new Service({
        name,
        command: manifest.temporalServer,
        args: [
          '--root',
          manifest.moduleDir,
          '--config',
          'config',
          '--env',
          'docker',
          '--allow-no-auth',
          'start',
          '--service',
          service,
        ],
        env: { ...env, ...extra },
        cwd: dataDir,
        logPath: join(logs, `${name}.log`),
        ready: (_, signal) => waitFor(() => tcpOpen(port), name, { signal }),
        readyTimeoutMs: 120_000,
      });
    const temporal = [
      temporalService('frontend', 'frontend', ports.frontend),
      temporalService('matching', 'matching', ports.matching),
      ...ports.history.map((p, i) =>
        temporalService(`history-${i}`, 'history', p.grpc, {
          HISTORY_GRPC_PORT: String(p.grpc),
          HISTORY_MEMBERSHIP_PORT: String(p.membership),
        }),
      ),
      // The worker service serves no gRPC of its own: ready once it joined the membership ring.
      temporalService('worker', 'worker', ports.workerMembership),
    ];
    progress(`Temporal ${manifest.version}: ${temporal.map((s) => s.name).join(', ')}`);
    // Every service writes the cluster metadata on a new database and they race on that insert:
    // the frontend goes first, alone; the others then find the metadata in place.
    const [first, ...rest] = temporal;
    await first?.startUntilReady(3);
    started.push(...temporal.slice(0, 1));
    await Promise.all(rest.map((s) => s.startUntilReady(3)));
    started.push(...rest);
    const address = `127.0.0.1:${ports.frontend}`;
    await waitFor(() => frontendServes(ports.frontend), 'the Temporal frontend', {
      timeoutMs: 120_000,
    });

    progress(`durable-billing setup --namespace ${namespace}`);
    mustRun(
      process.execPath,
      [
        join(REPO_ROOT, 'bin', 'durable-billing.js'),
        'setup',
        '--address',
        address,
        '--namespace',
        namespace,
      ],
      'durable-billing setup',
      childEnv({}),
    );

    const addresses: ClusterAddresses = {
      temporal: address,
      temporalHttp: `127.0.0.1:${ports.frontendHttp}`,
      namespace,
      taskQueue,
      postgres: `127.0.0.1:${ports.postgres}`,
      webhookUrl: `http://127.0.0.1:${ports.webhook}/webhooks/stripe`,
      receivers: ports.receivers.map((p) => `http://127.0.0.1:${p}/webhooks/stripe`),
      simulator: `http://127.0.0.1:${ports.simulator}`,
      logs,
    };
    const cluster: Cluster = {
      manifest,
      addresses,
      ports,
      dataDir,
      postgres,
      temporal,
      workers: [],
      receivers: [],
      sim: undefined,
      webhookSecret,
      databaseUrl,
      stop: stopAll,
    };
    if (options.temporalOnly) return cluster;

    // The application: simulator, billing workers ("hosts"), receivers behind the proxy.
    const proxy = await startRoundRobinProxy(ports.webhook, () =>
      ports.receivers.filter((_, i) => cluster.receivers[i]?.running === true),
    );
    const ownSim = options.sim === undefined;
    const sim =
      options.sim ??
      (await startSimulator({
        ...options.simulator,
        port: ports.simulator,
        webhook: { url: addresses.webhookUrl, secrets: [webhookSecret] },
      }));
    cluster.sim = sim;
    addresses.simulator = sim.url;
    const compiled = !options.fromSource && existsSync(join(REPO_ROOT, 'dist', 'worker.js'));
    const entry = (ts: string, js: string) =>
      compiled ? [join(REPO_ROOT, 'dist', js)] : ['--import', 'tsx', join(REPO_ROOT, 'src', ts)];
    // Bundled from this tree at every start: a dist/workflow-bundle.js left from an earlier
    // `npm run build:workflows` can be older than src/workflows, and workers on it would run
    // old workflow code beside new activities.
    const bundlePath = options.workflowBundle ?? join(dataDir, 'workflow-bundle.js');
    if (options.workflowBundle === undefined) {
      progress('bundling workflows');
      writeFileSync(bundlePath, (await bundleWorkflows()).code);
    }
    const client = {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: namespace,
      TEMPORAL_TASK_QUEUE: taskQueue,
    };
    const workers = Array.from(
      { length: options.workers ?? 2 },
      (_, i) =>
        new Service({
          name: `billing-worker-${i}`,
          command: process.execPath,
          args: ['--enable-source-maps', ...entry('worker.ts', 'worker.js')],
          env: childEnv({
            ...client,
            STRIPE_API_BASE: sim.url,
            STRIPE_SECRET_KEY: 'sk_test_cluster',
            WORKFLOW_BUNDLE_PATH: bundlePath,
            NOTIFIER: 'outbox',
            // One notification store for every host; the file outbox would be one per machine.
            NOTIFICATIONS_DATABASE_URL: databaseUrl(NOTIFICATIONS_DATABASE),
            OUTBOX_PATH: join(dataDir, `outbox-${i}`, 'notifications.jsonl'),
            LOG_LEVEL: 'info',
            ...options.workerEnv,
          }),
          cwd: REPO_ROOT,
          logPath: join(logs, `billing-worker-${i}.log`),
          ready: (output, signal) =>
            waitFor(async () => /worker:? polling/.test(output()), `billing-worker-${i}`, {
              signal,
            }),
        }),
    );
    const receivers = ports.receivers.map(
      (port, i) =>
        new Service({
          name: `receiver-${i}`,
          command: process.execPath,
          args: ['--enable-source-maps', ...entry('webhooks/main.ts', 'webhooks/main.js')],
          env: childEnv({
            ...client,
            WEBHOOK_HOST: '127.0.0.1',
            WEBHOOK_PORT: String(port),
            STRIPE_WEBHOOK_SECRET: webhookSecret,
            LOG_LEVEL: 'warn',
          }),
          cwd: REPO_ROOT,
          logPath: join(logs, `receiver-${i}.log`),
          ready: (_, signal) =>
            waitFor(() => httpOk(`http://127.0.0.1:${port}/healthz`), `receiver-${i}`, { signal }),
        }),
    );
    progress(
      `billing workers ×${workers.length} (${compiled ? 'node dist/worker.js' : options.fromSource ? 'tsx src/worker.ts' : 'tsx src/worker.ts: no dist/ build yet'}), receivers ×${receivers.length}`,
    );
    await Promise.all([...workers, ...receivers].map((s) => s.startUntilReady(5)));
    started.push(...workers, ...receivers);
    cluster.workers = workers;
    cluster.receivers = receivers;
    cluster.stop = async () => {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      proxy.closeAllConnections();
      if (ownSim) await sim.close();
      await stopAll();
    };
    return cluster;
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Both databases with the module's schema/postgresql/v12 (create, setup, update: all idempotent). */
function applySchema(
  manifest: ClusterManifest,
  port: number,
  serverEnv: Record<string, string>,
  progress: (line: string) => void,
): void {
  const databases = [
    { name: serverEnv.DBNAME ?? 'temporal', schema: 'temporal' },
    { name: serverEnv.VISIBILITY_DBNAME ?? 'temporal_visibility', schema: 'visibility' },
  ];
  for (const { name, schema } of databases) {
    const common = [
      '--plugin',
      'postgres12',
      '--ep',
      '127.0.0.1',
      '-p',
      String(port),
      '-u',
      DB_USER,
      '--pw',
      DB_PASSWORD,
      '--db',
      name,
    ];
    const tool = (args: string[], what: string) =>
      mustRun(manifest.sqlTool, [...common, ...args], `temporal-sql-tool ${what} (${name})`);
    const created = spawnSync(manifest.sqlTool, [...common, 'create'], { encoding: 'utf8' });
    if (created.status !== 0 && !/already exists/.test(`${created.stderr}${created.stdout}`))
      throw new Error(`temporal-sql-tool create (${name}) failed: ${created.stderr.trim()}`);
    tool(['setup-schema', '-v', '0.0'], 'setup-schema');
    tool(
      [
        'update-schema',
        '-d',
        join(manifest.moduleDir, 'schema', 'postgresql', 'v12', schema, 'versioned'),
      ],
      'update-schema',
    );
    progress(`schema ${schema} in database ${name}: up to date`);
  }
}
