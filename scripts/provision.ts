// Provisions the two real Temporal servers the project runs on, without internet: the
// Temporal CLI dev server (built with `go install`) and the Java time-skipping test server
// (from Maven Central), cached outside the repository so fresh clones reuse them. It also
// builds stripe-mock (`go install`), which the simulator's contract test runs against.
//
// Lookup order for each binary: explicit env var path → cache → build with the local
// toolchain → none (the SDK then falls back to its own download, for machines with internet).
// The result is written to `<cache>/servers.json`, which the tests and `npm start` read.
//
// Usage: tsx scripts/provision.ts [--dev-server] [--test-server] [--stripe-mock] [--quiet]
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import {
  CACHE_DIR,
  DEV_SERVER_VERSION,
  TEST_SERVER_VERSION,
  type ServerManifest,
  devServerCachePath,
  stripeMockCachePath,
  testServerCachePath,
  writeManifest,
  readManifest,
} from '../src/embedded/servers.js';

const args = new Set(process.argv.slice(2));
const wantDev = args.has('--dev-server') || !args.has('--test-server');
const wantTest = args.has('--test-server') || !args.has('--dev-server');
const wantStripeMock =
  args.has('--stripe-mock') || (!args.has('--dev-server') && !args.has('--test-server'));
const quiet = args.has('--quiet');

function log(message: string): void {
  if (!quiet) process.stderr.write(`[provision] ${message}\n`);
}

function has(command: string, versionArgs: string[]): string | undefined {
  const result = spawnSync(command, versionArgs, { encoding: 'utf8' });
  if (result.error || result.status !== 0) return undefined;
  return `${result.stdout}${result.stderr}`;
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

/** Go ≥ 1.25 is needed to build the CLI v1.5.1. */
function goIsUsable(): boolean {
  const out = has('go', ['version']);
  const match = out?.match(/go(\d+)\.(\d+)/);
  if (!match) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major > 1 || (major === 1 && minor >= 25);
}

function provisionDevServer(): string | undefined {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) {
      throw new Error(
        `TEMPORAL_CLI_PATH points at ${fromEnv}, which does not exist; unset it or fix the path`,
      );
    }
    log(`dev server: ${fromEnv} (TEMPORAL_CLI_PATH)`);
    return fromEnv;
  }
  const cached = devServerCachePath();
  if (existsSync(cached)) {
    log(`dev server: ${cached} (cached)`);
    return cached;
  }
  if (!goIsUsable()) {
    log('dev server: no Go ≥ 1.25 here; the SDK will try to download the CLI');
    return undefined;
  }
  const started = performance.now();
  const staging = `${join(CACHE_DIR, `temporal-cli-${DEV_SERVER_VERSION}`)}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  log(
    `dev server: building temporal CLI v${DEV_SERVER_VERSION} with go install (several minutes, once)`,
  );
  // v1.5.1: later tags carry a `replace` directive that `go install pkg@version` refuses.
  const result = spawnSync(
    'go',
    ['install', `github.com/temporalio/cli/cmd/temporal@v${DEV_SERVER_VERSION}`],
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, GOBIN: staging } },
  );
  if (result.status !== 0)
    throw new Error(`go install of the temporal CLI failed (exit ${result.status})`);
  rmSync(join(cached, '..'), { recursive: true, force: true });
  renameSync(staging, join(cached, '..'));
  log(`dev server: built in ${seconds(started)}`);
  return cached;
}

function provisionStripeMock(): string | undefined {
  const fromEnv = process.env.STRIPE_MOCK_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) {
      throw new Error(
        `STRIPE_MOCK_PATH points at ${fromEnv}, which does not exist; unset it or fix the path`,
      );
    }
    log(`stripe-mock: ${fromEnv} (STRIPE_MOCK_PATH)`);
    return fromEnv;
  }
  const cached = stripeMockCachePath();
  if (existsSync(cached)) {
    log(`stripe-mock: ${cached} (cached)`);
    return cached;
  }
  if (!has('go', ['version'])) {
    log('stripe-mock: no Go here; the stripe-mock contract test will be skipped');
    return undefined;
  }
  const started = performance.now();
  const staging = `${join(cached, '..')}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  log('stripe-mock: building with go install (once)');
  const result = spawnSync('go', ['install', 'github.com/stripe/stripe-mock@latest'], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOBIN: staging },
  });
  if (result.status !== 0) {
    // Not fatal: only the contract test needs it, and it reports the missing binary itself.
    log(
      `stripe-mock: go install failed (exit ${result.status}); the contract test will be skipped`,
    );
    rmSync(staging, { recursive: true, force: true });
    return undefined;
  }
  rmSync(join(cached, '..'), { recursive: true, force: true });
  renameSync(staging, join(cached, '..'));
  log(`stripe-mock: built in ${seconds(started)}`);
  return cached;
}

/** A fast JVM start: class data sharing archive + C1 only + serial GC (see README, "the 5-second trap"). */
function launcherScript(withArchive: boolean): string {
  const archive = withArchive ? '-XX:SharedArchiveFile="$dir/app.jsa" -Xshare:auto ' : '';
  return `#!/bin/sh
# Launches the Temporal time-skipping test server. \`exec\` matters: the SDK kills the PID it
# spawned, so a wrapper shell that did not exec would leave an orphan JVM holding the port.
dir=$(dirname "$0")
exec java ${archive}-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss1m -XX:-UsePerfData \\
  -cp "$dir/lib/*" io.temporal.testserver.TestServer "$@"
`;
}

function pom(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.durable-billing</groupId>
  <artifactId>test-server-provisioning</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>${TEST_SERVER_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`;
}

function waitForPort(port: number, timeoutMs: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(performance.now() - started);
      });
      socket.once('error', () => {
        socket.destroy();
        if (performance.now() - started > timeoutMs)
          reject(new Error(`port ${port} not open after ${timeoutMs} ms`));
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

/**
 * Starts the launcher once, measures the time until its port accepts connections, and stops
 * it with SIGTERM (which also makes `-XX:ArchiveClassesAtExit` write its archive).
 */
async function timeStart(command: string, commandArgs: string[], port: number): Promise<number> {
  const child = spawn(command, [...commandArgs, String(port)], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    return await waitForPort(port, 60_000);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function provisionTestServer(): Promise<string | undefined> {
  const fromEnv = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) {
      throw new Error(
        `TEMPORAL_TEST_SERVER_PATH points at ${fromEnv}, which does not exist; unset it or fix the path`,
      );
    }
    log(`test server: ${fromEnv} (TEMPORAL_TEST_SERVER_PATH)`);
    return fromEnv;
  }
  const cached = testServerCachePath();
  const dir = join(cached, '..');
  const complete = join(dir, 'start-times.json');
  if (existsSync(complete)) {
    log(`test server: ${cached} (cached)`);
    return cached;
  }
  if (!has('java', ['-version']) || !has('mvn', ['-v'])) {
    log('test server: no java + mvn here; the SDK will try to download the test server');
    return undefined;
  }
  const started = performance.now();
  // Built in place (a class-data archive is only valid for the class path it was made with);
  // start-times.json is written last and marks the directory complete.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'pom.xml'), pom());
  log(
    `test server: fetching io.temporal:temporal-test-server:${TEST_SERVER_VERSION} from Maven Central (once)`,
  );
  const mvn = spawnSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      join(dir, 'pom.xml'),
      'dependency:copy-dependencies',
      `-DoutputDirectory=${join(dir, 'lib')}`,
      '-DincludeScope=runtime',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (mvn.status !== 0)
    throw new Error(`mvn dependency:copy-dependencies failed (exit ${mvn.status})`);
  log(`test server: dependencies in ${seconds(started)}`);

  writeFileSync(cached, launcherScript(false));
  chmodSync(cached, 0o755);
  const port = 17233 + Math.floor(Math.random() * 1000);
  const cold = await timeStart(cached, [], port);
  log(`test server: start without class-data archive: ${(cold / 1000).toFixed(2)} s`);

  // Dynamic AppCDS: one training run records the loaded classes into app.jsa.
  const archive = join(dir, 'app.jsa');
  await timeStart(
    'java',
    [
      `-XX:ArchiveClassesAtExit=${archive}`,
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-Xss1m',
      '-XX:-UsePerfData',
      '-cp',
      `${join(dir, 'lib')}/*`,
      'io.temporal.testserver.TestServer',
    ],
    port,
  );
  if (existsSync(archive)) writeFileSync(cached, launcherScript(true));
  else log('test server: the JVM wrote no class-data archive; starting without it');
  const warm = await timeStart(cached, [], port);
  log(`test server: start with class-data archive: ${(warm / 1000).toFixed(2)} s`);
  writeFileSync(
    complete,
    JSON.stringify({ coldMs: Math.round(cold), withArchiveMs: Math.round(warm) }, null, 2),
  );
  log(`test server: ready in ${seconds(started)}`);
  return cached;
}

async function main(): Promise<void> {
  const started = performance.now();
  mkdirSync(CACHE_DIR, { recursive: true });
  const previous = readManifest();
  const manifest: ServerManifest = {
    devServer: wantDev ? provisionDevServer() : previous?.devServer,
    testServer: wantTest ? await provisionTestServer() : previous?.testServer,
    stripeMock: wantStripeMock ? provisionStripeMock() : previous?.stripeMock,
  };
  writeManifest(manifest);
  log(`done in ${seconds(started)}`);
}

await main();
