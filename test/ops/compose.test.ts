// The production compose stack, checked without a Docker engine: both compose files against the
// Compose Specification's JSON schema, the project services' variables against the config schema
// (and the SDK's env-config), search attributes against the code, start-up order and image pins.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema, loadConfig } from '../../src/config.js';
import { billingSearchAttributes } from '../../src/shared/search-attributes.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);

/**
 * The Compose Specification schema (draft-07) as the `dclint` package ships it: its
 * schemas/compose.schema.json is downloaded from compose-spec/compose-spec `schema/compose-spec.json`
 * (the package's own scripts/download-compose-schema.ts). Not an export of the package, so read by path.
 */
const composeSpecSchema: unknown = JSON.parse(
  readFileSync(
    join(dirname(require.resolve('dclint/package.json')), 'schemas/compose.schema.json'),
    'utf8',
  ),
);

const environmentValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const composeService = z.object({
  image: z.string().optional(),
  build: z.unknown().optional(),
  command: z.union([z.string(), z.array(z.string())]).optional(),
  // Map form only: the checks below read variables by name.
  environment: z.record(z.string(), environmentValue).optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
  healthcheck: z.object({ test: z.union([z.string(), z.array(z.string())]) }).optional(),
  ports: z.array(z.string()).optional(),
});
const composeFile = z.object({ services: z.record(z.string(), composeService) });
type ComposeService = z.infer<typeof composeService>;

function readYaml(file: string): unknown {
  // `<<` merge keys are YAML 1.1, which Compose supports; `uniqueKeys` (default) rejects duplicates.
  return parse(readFileSync(join(root, file), 'utf8'), { merge: true });
}

const compose = composeFile.parse(readYaml('docker-compose.yml'));
const cloud = composeFile.parse(readYaml('docker-compose.cloud.yml'));

function service(name: string, file = compose): ComposeService {
  const found = file.services[name];
  if (!found) throw new Error(`docker-compose: no service "${name}"`);
  return found;
}

/** The services that run the project's image (built from ./Dockerfile). */
const projectServices = Object.entries(compose.services)
  .filter(([, s]) => s.build !== undefined)
  .map(([name]) => name);

/**
 * Compose interpolation (compose-spec "Interpolation"): `$$`, `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`. Throws the error text for a missing required one.
 */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
    (_match: string, name?: string, colon?: string, op?: string, operand?: string) => {
      if (name === undefined) return '$';
      const set = env[name];
      // `:-` and `:?` treat an empty value as unset; `-` and `?` only an absent one.
      if (set !== undefined && (colon !== ':' || set !== '')) return set;
      if (op === '-') return operand ?? '';
      if (op === '?') throw new Error(`${name}: ${operand ?? 'required'}`);
      return '';
    },
  );
}

/** A service's environment as the container sees it, given the host environment (and `.env`). */
function containerEnv(s: ComposeService, env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v ?? ''), env)]),
  );
}

/** `ENV` settings of the Dockerfile's final stage. */
function dockerfileEnv(): Record<string, string> {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const stages = text.split(/^FROM\s/m);
  const last = stages[stages.length - 1] ?? '';
  const env: Record<string, string> = {};
  for (const [, pairs] of last.matchAll(/^ENV\s+(.+)$/gm))
    for (const pair of (pairs ?? '').trim().split(/\s+/)) {
      const [key, ...rest] = pair.split('=');
      if (key) env[key] = rest.join('=');
    }
  return env;
}

/**
 * The SDK's documented env-config variables (@temporalio/envconfig README and source), which
 * src/temporal.ts reads through `loadClientConnectConfig`. Checked against the installed package below.
 */
const temporalEnvConfig = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
  'TEMPORAL_CODEC_ENDPOINT',
  'TEMPORAL_CODEC_AUTH',
  'TEMPORAL_PROFILE',
  'TEMPORAL_CONFIG_FILE',
] as const;

function isKnownVariable(name: string): boolean {
  return (
    name in configSchema.shape ||
    (temporalEnvConfig as readonly string[]).includes(name) ||
    name.startsWith('TEMPORAL_GRPC_META_')
  );
}

/** Values standing in for `.env`: what an operator must provide. */
const operatorEnv = {
  POSTGRES_PASSWORD: 'postgres-password',
  STRIPE_SECRET_KEY: 'sk_test_compose',
  STRIPE_WEBHOOK_SECRET: 'whsec_compose',
};

/**
 * Ajv (draft-07 by default) with the draft-07 meta-schema also under the https id the Compose schema
 * declares, so `compile` checks the schema itself before using it.
 */
function composeValidator(): { ajv: Ajv; validate: ValidateFunction } {
  const draft07 = require('ajv/dist/refs/json-schema-draft-07.json') as object;
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addMetaSchema({ ...draft07, $id: 'https://json-schema.org/draft-07/schema' });
  return { ajv, validate: ajv.compile(composeSpecSchema as object) };
}

describe('docker-compose.yml', () => {
  it('is valid under the Compose Specification JSON schema, and so is the Temporal Cloud override', () => {
    const { ajv, validate } = composeValidator();
    for (const file of ['docker-compose.yml', 'docker-compose.cloud.yml']) {
      validate(readYaml(file));
      expect(validate.errors ?? [], `${file}: ${ajv.errorsText(validate.errors)}`).toEqual([]);
    }
  });

  it('the schema is the Compose Specification (draft-07) and rejects an unknown service key', () => {
    expect(composeSpecSchema).toMatchObject({
      $schema: 'https://json-schema.org/draft-07/schema',
      title: 'Compose Specification',
    });
    const { validate } = composeValidator();
    expect(validate({ services: { worker: { image: 'x', enviroment: {} } } })).toBe(false);
  });

  it('runs worker, receiver and the backfill schedule from the project image', () => {
    expect(projectServices.sort()).toEqual(['billing-schedules', 'receiver', 'worker']);
    for (const name of projectServices) expect(service(name).image).toBe('durable-billing:local');
    expect(service('worker').command).toEqual(['node', '--enable-source-maps', 'dist/worker.js']);
    expect(service('receiver').command).toEqual([
      'node',
      '--enable-source-maps',
      'dist/webhooks/main.js',
    ]);
  });

  it('the project services set only config-schema or Temporal env-config variables', () => {
    expect(temporalEnvConfig.filter((name) => !envConfigSource.includes(name))).toEqual([]);
    for (const file of [compose, cloud])
      for (const name of projectServices) {
        const unknown = Object.keys(file.services[name]?.environment ?? {}).filter(
          (variable) => !isKnownVariable(variable),
        );
        expect(unknown, `${name} sets variables nothing reads`).toEqual([]);
      }
    const imageUnknown = Object.keys(dockerfileEnv()).filter(
      (variable) => variable !== 'NODE_ENV' && !isKnownVariable(variable),
    );
    expect(imageUnknown, 'Dockerfile ENV').toEqual([]);
  });

  it('the worker and the receiver get what they need, and it parses with the config schema', () => {
    const image = dockerfileEnv();
    const worker = { ...image, ...containerEnv(service('worker'), operatorEnv) };
    const receiver = { ...image, ...containerEnv(service('receiver'), operatorEnv) };
    for (const env of [worker, receiver])
      expect(env).toMatchObject({
        TEMPORAL_ADDRESS: 'temporal:7233',
        TEMPORAL_NAMESPACE: 'billing',
        TEMPORAL_TASK_QUEUE: 'billing',
      });
    expect(worker).toMatchObject({
      STRIPE_SECRET_KEY: operatorEnv.STRIPE_SECRET_KEY,
      // Where `npm run build:workflows` writes, under the image's WORKDIR.
      WORKFLOW_BUNDLE_PATH: '/app/dist/workflow-bundle.js',
    });
    expect(readFileSync(join(root, 'scripts/build-workflows.ts'), 'utf8')).toContain(
      "'dist/workflow-bundle.js'",
    );
    expect(receiver).toMatchObject({
      STRIPE_WEBHOOK_SECRET: operatorEnv.STRIPE_WEBHOOK_SECRET,
      // Inside a container the loopback default would be unreachable.
      WEBHOOK_HOST: '0.0.0.0',
      WEBHOOK_PORT: '3000',
    });
    const workerConfig = loadConfig(worker);
    expect(workerConfig.NOTIFIER).toBe('outbox');
    const receiverConfig = loadConfig(receiver);
    expect(receiverConfig.STRIPE_WEBHOOK_SECRET).toEqual([operatorEnv.STRIPE_WEBHOOK_SECRET]);
    // The receiver publishes and probes the port it listens on.
    const { ports, healthcheck } = service('receiver');
    expect(ports?.[0]).toMatch(new RegExp(`:${receiverConfig.WEBHOOK_PORT}$`));
    expect([healthcheck?.test ?? []].flat().join(' ')).toContain(
      `http://127.0.0.1:${receiverConfig.WEBHOOK_PORT}/healthz`,
    );
    loadConfig({ ...image, ...containerEnv(service('billing-schedules'), operatorEnv) });
  });

  it('secrets come only from the environment, and the stack refuses to start without them', () => {
    const secrets = [
      'STRIPE_SECRET_KEY',
      'STRIPE_WEBHOOK_SECRET',
      'POSTGRES_PASSWORD',
      'POSTGRES_PWD',
      'SQL_PASSWORD',
      'TEMPORAL_API_KEY',
    ];
    let seen = 0;
    for (const file of [compose, cloud])
      for (const [name, s] of Object.entries(file.services))
        for (const [variable, value] of Object.entries(s.environment ?? {}))
          if (secrets.includes(variable)) {
            seen++;
            expect(value, `${name}.${variable}`).toMatch(/^\$\{[A-Z_]+:\?[^}]+\}$/);
          }
    expect(seen).toBeGreaterThanOrEqual(6);
    expect(() => containerEnv(service('worker'), {})).toThrow(/STRIPE_SECRET_KEY/);
    expect(() => containerEnv(service('receiver'), {})).toThrow(/STRIPE_WEBHOOK_SECRET/);
    expect(() => containerEnv(service('temporal'), {})).toThrow(/POSTGRES_PASSWORD/);
  });

  it('registers the namespace and the search attributes with `durable-billing setup` from the project image', () => {
    // setup registers src/shared/search-attributes.ts itself (test/cli/setup-command.test.ts), so
    // the compose file holds no second list to keep equal.
    const setup = service('temporal-namespace');
    expect(setup.image).toBe(service('worker').image);
    expect([setup.command ?? []].flat().slice(0, 3)).toEqual(['node', 'dist/cli/main.js', 'setup']);
    expect(billingSearchAttributes.length).toBeGreaterThanOrEqual(6);
  });

  it('the project services use the namespace that is created, on the temporal service', () => {
    const setup = containerEnv(service('temporal-namespace'), operatorEnv);
    for (const name of projectServices) {
      const env = containerEnv(service(name), operatorEnv);
      expect(env.TEMPORAL_NAMESPACE).toBe(setup.TEMPORAL_NAMESPACE);
      expect(env.TEMPORAL_ADDRESS).toBe(setup.TEMPORAL_ADDRESS);
    }
    expect(setup.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(service('temporal').ports).toContain('127.0.0.1:7233:7233');
    const custom = { ...operatorEnv, TEMPORAL_NAMESPACE: 'payments' };
    expect(containerEnv(service('worker'), custom).TEMPORAL_NAMESPACE).toBe(
      containerEnv(service('temporal-namespace'), custom).TEMPORAL_NAMESPACE,
    );
  });

  it('the Temporal server runs with the settings and dynamic config `npm run cluster` uses', () => {
    const raw = readYaml('docker-compose.yml') as {
      services: Record<string, { env_file?: unknown; volumes?: string[] }>;
    };
    expect(raw.services.temporal?.env_file).toBe('deploy/temporal/server.env');
    const env = containerEnv(service('temporal'), operatorEnv);
    const mount = raw.services.temporal?.volumes?.find((v) =>
      v.startsWith('./deploy/temporal/dynamicconfig.yaml:'),
    );
    expect(mount?.split(':')[1]).toBe(env.DYNAMIC_CONFIG_FILE_PATH);
  });

  it('starts in order: database, schema, server, namespace, then the project services', () => {
    const waitsFor = (name: string) =>
      Object.fromEntries(
        Object.entries(service(name).depends_on ?? {}).map(([dep, d]) => [dep, d.condition]),
      );
    expect(waitsFor('temporal-schema')).toEqual({ postgresql: 'service_healthy' });
    expect(waitsFor('temporal')).toEqual({ 'temporal-schema': 'service_completed_successfully' });
    expect(waitsFor('temporal-namespace')).toEqual({ temporal: 'service_healthy' });
    for (const name of projectServices)
      expect(waitsFor(name)).toEqual({ 'temporal-namespace': 'service_completed_successfully' });
    // A service_healthy dependency on a service without a healthcheck would never start.
    for (const [name, s] of Object.entries(compose.services))
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {}))
        if (condition === 'service_healthy')
          expect(service(dep).healthcheck, `${name} waits for ${dep}'s health`).toBeDefined();
  });

  it('pins every image: Temporal server 1.29.1 with its admin-tools, Node 20 for the project', () => {
    const images = Object.values(compose.services).flatMap((s) => (s.image ? [s.image] : []));
    for (const image of images) expect(image, image).toMatch(/^[^:]+:(?!latest$)[\w.-]+$/);
    expect(images).toContain('temporalio/server:1.29.1');
    expect(images).toContain('temporalio/admin-tools:1.29.1-tctl-1.18.4-cli-1.5.0');
    expect(images).toContain('temporalio/ui:2.42.1');
    expect(images.join(' ')).not.toContain('auto-setup');
    expect(readFileSync(join(root, 'Dockerfile'), 'utf8')).toMatch(
      /^ARG NODE_IMAGE=node:20\.\d+\.\d+-bookworm-slim$/m,
    );
  });
});

/** The installed env-config package's source, to keep `temporalEnvConfig` honest. */
const envConfigSource = ['envconfig-toml.js', 'envconfig.js']
  .map((file) =>
    readFileSync(join(dirname(require.resolve('@temporalio/envconfig')), file), 'utf8'),
  )
  .join('\n');
