// Provisions what the project runs on and tests with, without internet: the Temporal CLI dev
// server (built with `go install`, its version stamped in) and the Java time-skipping test
// server (from Maven Central), cached outside the repository so fresh clones reuse them; a
// pinned stripe-mock (`go install`), which the contract check runs against; and headless
// Chromium for the UI test (Debian's package).
//
// Lookup order for each: explicit env var path → cache (or PATH, for Chromium) → build or
// install with the local toolchain → for the Temporal servers, none (the SDK then falls back to
// its own download, for machines with internet); stripe-mock and Chromium fail at once with
// the command to run. The result is written atomically to `<cache>/servers.json`, which the
// tests and `npm start` read; a new build goes to a new directory, so a run using the old
// binary keeps it.
//
// Usage: tsx scripts/provision.ts [--dev-server] [--test-server] [--stripe-mock] [--chromium] [--quiet]
// (no flag: all of them).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import {
  CACHE_DIR,
  DEV_SERVER_VERSION,
  STRIPE_MOCK_VERSION,
  TEST_SERVER_VERSION,
  type ServerManifest,
  devServerCachePath,
  stripeMockCachePath,
  testServerCachePath,
  writeManifest,
  readManifest,
} from '../src/embedded/servers.js';

const args = new Set(process.argv.slice(2));
const PARTS = ['--dev-server', '--test-server', '--stripe-mock', '--chromium'] as const;
const all = !PARTS.some((part) => args.has(part));
const wantDev = all || args.has('--dev-server');
const wantTest = all || args.has('--test-server');
const wantStripeMock = all || args.has('--stripe-mock');
const wantChromium = all || args.has('--chromium');
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
  const dir = join(cached, '..');
  const staging = `${dir}.${process.pid}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  log(
    `dev server: building temporal CLI v${DEV_SERVER_VERSION} with go install (several minutes, once)`,
  );
  // v1.5.1: later tags carry a `replace` directive that `go install pkg@version` refuses. The
  // release build stamps the version the same way (goreleaser's ldflags); unstamped it says
  // 0.0.0-DEV.
  const result = spawnSync(
    'go',
    [
      'install',
      '-ldflags',
      `-X github.com/temporalio/cli/temporalcli.Version=${DEV_SERVER_VERSION}`,
      `github.com/temporalio/cli/cmd/temporal@v${DEV_SERVER_VERSION}`,
    ],
    { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, GOBIN: staging } },
  );
  if (result.status !== 0)
    throw new Error(`go install of the temporal CLI failed (exit ${result.status})`);
  const version = has(join(staging, 'temporal'), ['--version']);
  if (!version?.includes(`temporal version ${DEV_SERVER_VERSION} `))
    throw new Error(`the built temporal CLI says ${version ?? 'nothing'} to --version`);
  // A new directory (versioned by build): runs that use an older build keep their binary.
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  log(`dev server: built in ${seconds(started)}`);
  return cached;
}

/** Why stripe-mock is missing, and the command that provides it (the contract check needs it). */
function noStripeMock(why: string): Error {
  return new Error(
    `stripe-mock: ${why}. The test run's contract check needs it: install Go and run \`npx tsx scripts/provision.ts --stripe-mock\`, or set STRIPE_MOCK_PATH to a stripe-mock v${STRIPE_MOCK_VERSION} binary`,
  );
}

function provisionStripeMock(): string {
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
  if (!has('go', ['version'])) throw noStripeMock('no Go here to build it');
  const started = performance.now();
  const dir = join(cached, '..');
  const staging = `${dir}.${process.pid}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  log(`stripe-mock: building v${STRIPE_MOCK_VERSION} with go install (once)`);
  const result = spawnSync(
    'go',
    ['install', `github.com/stripe/stripe-mock@v${STRIPE_MOCK_VERSION}`],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, GOBIN: staging },
    },
  );
  if (result.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw noStripeMock(`go install failed (exit ${result.status})`);
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  log(`stripe-mock: built in ${seconds(started)}`);
  return cached;
}

/** The path `command -v` finds for `name`, if any. */
function onPath(name: string): string | undefined {
  const result = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = result.stdout.trim();
  return result.status === 0 && path !== '' ? path : undefined;
}

/** The command that installs Chromium here, for the message when provisioning cannot. */
const INSTALL_CHROMIUM = 'sudo apt-get update && sudo apt-get install -y chromium';

/**
 * Headless Chromium for the UI test: `CHROMIUM_PATH`, else `chromium` on PATH, else Debian's
 * package installed with apt-get where this process may (root). Playwright never downloads a
 * browser here (its builds are not on a package registry).
 */
function provisionChromium(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv))
      throw new Error(
        `CHROMIUM_PATH points at ${fromEnv}, which does not exist; unset it or fix the path`,
      );
    log(`chromium: ${fromEnv} (CHROMIUM_PATH)`);
    return fromEnv;
  }
  const found = onPath('chromium');
  if (found) {
    log(`chromium: ${found}`);
    return found;
  }
  if (process.getuid?.() !== 0 || !onPath('apt-get'))
    throw new Error(
      `chromium: not installed, and this process cannot install it (not root, or no apt-get). The UI test needs it: run \`${INSTALL_CHROMIUM}\`, or set CHROMIUM_PATH to a Chromium binary`,
    );
  const started = performance.now();
  log("chromium: installing Debian's package with apt-get (once)");
  for (const command of [['update'], ['install', '-y', 'chromium']]) {
    const result = spawnSync('apt-get', command, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (result.status !== 0)
      throw new Error(
        `chromium: apt-get ${command.join(' ')} failed (exit ${result.status}); run \`${INSTALL_CHROMIUM}\` by hand, or set CHROMIUM_PATH`,
      );
  }
  const installed = onPath('chromium');
  if (!installed)
    throw new Error(`chromium: apt-get installed it, yet \`command -v chromium\` finds nothing`);
  log(`chromium: ${installed}, installed in ${seconds(started)}`);
  return installed;
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
    chromium: wantChromium ? provisionChromium() : previous?.chromium,
  };
  writeManifest(manifest);
  log(`done in ${seconds(started)}`);
}

await main();
