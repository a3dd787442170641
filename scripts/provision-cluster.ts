// Provisions what `npm run cluster` runs, from the package registries, cached outside the
// repository: the Temporal server and temporal-sql-tool built with `go install` from
// go.temporal.io/server (its schema and config template come from the same module), and
// Debian's PostgreSQL (apt-get, when it is missing and this process may install packages).
// Writes the paths to <cache>/cluster-<version>.json; a second run only checks them.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CACHE_DIR } from '../src/embedded/servers.js';

/** go.temporal.io/server tag: the last with no `replace` directive that `go install` refuses. */
export const TEMPORAL_SERVER_VERSION = '1.29.1';

/** What the cluster needs, as found or built. */
export interface ClusterManifest {
  version: string;
  /** `go.temporal.io/server/cmd/server`. */
  temporalServer: string;
  /** `go.temporal.io/server/cmd/tools/sql`. */
  sqlTool: string;
  /** The module's directory in the Go module cache (schema/postgresql/v12, config/docker.yaml). */
  moduleDir: string;
  /** PostgreSQL's bin directory (postgres, initdb, pg_ctl, psql). */
  postgresBin: string;
  /** Seconds the last `go install` took (0 when the binaries were cached). */
  buildSeconds: number;
}

export function clusterManifestPath(): string {
  return join(CACHE_DIR, `cluster-${TEMPORAL_SERVER_VERSION}.json`);
}

function serverDir(): string {
  return join(CACHE_DIR, `temporal-server-${TEMPORAL_SERVER_VERSION}`);
}

/** The manifest if every path in it still exists. */
export function readClusterManifest(): ClusterManifest | undefined {
  const path = clusterManifestPath();
  if (!existsSync(path)) return undefined;
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as ClusterManifest;
  const paths = [
    manifest.temporalServer,
    manifest.sqlTool,
    manifest.moduleDir,
    manifest.postgresBin,
  ];
  return paths.every((p) => existsSync(p)) ? manifest : undefined;
}

const log = (line: string) => process.stderr.write(`provision-cluster: ${line}\n`);

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(command, args, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw new Error(`${command} could not run: ${result.error.message}`);
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.join(' ')} failed (exit ${result.status}):\n${(result.stderr || result.stdout).slice(-4000)}`,
    );
  return result.stdout;
}

/** Builds both binaries into the versioned cache directory (staging, then renamed: no half builds). */
function buildTemporal(): { temporalServer: string; sqlTool: string; buildSeconds: number } {
  const dir = serverDir();
  const temporalServer = join(dir, 'temporal-server');
  const sqlTool = join(dir, 'temporal-sql-tool');
  if (existsSync(temporalServer) && existsSync(sqlTool))
    return { temporalServer, sqlTool, buildSeconds: 0 };
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.status !== 0)
    throw new Error(
      'no Go toolchain here: install Go ≥ 1.24 to build the Temporal server from its module',
    );
  const staging = `${dir}.staging`;
  mkdirSync(staging, { recursive: true });
  const module = `go.temporal.io/server@v${TEMPORAL_SERVER_VERSION}`;
  log(
    `building temporal-server and temporal-sql-tool ${TEMPORAL_SERVER_VERSION} with go install (minutes, once)`,
  );
  const started = Date.now();
  const result = spawnSync(
    'go',
    [
      'install',
      `go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_VERSION}`,
      `go.temporal.io/server/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, GOBIN: staging } },
  );
  if (result.status !== 0)
    throw new Error(`go install of ${module} failed (exit ${result.status})`);
  const buildSeconds = Math.round((Date.now() - started) / 1000);
  mkdirSync(dir, { recursive: true });
  renameSync(join(staging, 'server'), temporalServer);
  renameSync(join(staging, 'sql'), sqlTool);
  rmSync(staging, { recursive: true, force: true });
  log(`built in ${buildSeconds} s: ${dir}`);
  return { temporalServer, sqlTool, buildSeconds };
}

/** The module's directory in the module cache (downloaded by the build, or now). */
function moduleDir(): string {
  const out = run('go', [
    'mod',
    'download',
    '-json',
    `go.temporal.io/server@v${TEMPORAL_SERVER_VERSION}`,
  ]);
  const { Dir } = JSON.parse(out) as { Dir?: string };
  if (!Dir || !existsSync(join(Dir, 'schema', 'postgresql', 'v12')))
    throw new Error(`go mod download gave no schema/postgresql/v12 for the server module (${Dir})`);
  return Dir;
}

function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

/**
 * Debian's PostgreSQL (and `acl`, to let the postgres user reach a data directory under a
 * private home): installed with apt-get when missing and we are root; otherwise says what to install.
 */
function ensurePostgres(): string {
  const found = findPostgresBin();
  const hasAcl = spawnSync('setfacl', ['--version']).status === 0;
  if (found && hasAcl) return found;
  const root = process.getuid?.() === 0;
  if (!root || spawnSync('apt-get', ['--version']).status !== 0)
    throw new Error(
      'PostgreSQL (and setfacl) are not installed and this process cannot install packages: ' +
        'run `apt-get install postgresql acl` (Debian) or put a PostgreSQL bin directory in /usr/lib/postgresql/<n>/bin',
    );
  log('installing Debian packages postgresql and acl with apt-get');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-q'], env);
  run('apt-get', ['install', '-y', '-q', 'postgresql', 'acl'], env);
  const installed = findPostgresBin();
  if (!installed)
    throw new Error(
      'apt-get installed postgresql but no /usr/lib/postgresql/<n>/bin/postgres was found',
    );
  return installed;
}

/** Finds or builds everything; returns the manifest (also written to disk). */
export function provisionCluster(): ClusterManifest {
  const cached = readClusterManifest();
  if (cached) return cached;
  const postgresBin = ensurePostgres();
  const built = buildTemporal();
  const manifest: ClusterManifest = {
    version: TEMPORAL_SERVER_VERSION,
    ...built,
    moduleDir: moduleDir(),
    postgresBin,
  };
  mkdirSync(CACHE_DIR, { recursive: true });
  writeFileSync(clusterManifestPath(), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    const manifest = provisionCluster();
    log(`ready: ${clusterManifestPath()}`);
    process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
  } catch (error) {
    log(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
