import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface StackPorts {
  kafka: number;
  kafkaController: number;
  registry: number;
  postgres: number;
  s3: number;
}

export interface StackContext {
  /** Data, logs and pid files: `.k2/` of the project by default. */
  dir: string;
  /** Downloads that survive a wipe: `~/.cache/k2` by default. */
  cacheDir: string;
  ports: StackPorts;
  log: (line: string) => void;
}

export const defaultPorts: StackPorts = {
  kafka: 19092,
  kafkaController: 19093,
  registry: 18081,
  postgres: 15432,
  s3: 19000,
};

/** Fixed local credentials: the stack binds to loopback only. */
export const stackCredentials = {
  s3AccessKeyId: 'k2admin',
  s3SecretAccessKey: 'k2-local-secret',
  s3Bucket: 'k2-warehouse',
  s3Region: 'us-east-1',
  pgUser: 'postgres',
  pgPassword: 'postgres',
  pgDatabase: 'k2',
} as const;

export function stackContext(
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = console.log,
): StackContext {
  const port = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
  return {
    dir: resolve(env.K2_STACK_DIR ?? '.k2'),
    cacheDir: resolve(env.K2_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'k2')),
    ports: {
      kafka: port('K2_STACK_KAFKA_PORT', defaultPorts.kafka),
      kafkaController: port('K2_STACK_KAFKA_CONTROLLER_PORT', defaultPorts.kafkaController),
      registry: port('K2_STACK_REGISTRY_PORT', defaultPorts.registry),
      postgres: port('K2_STACK_POSTGRES_PORT', defaultPorts.postgres),
      s3: port('K2_STACK_S3_PORT', defaultPorts.s3),
    },
    log,
  };
}

/** The endpoints file that the demo, tests and benches read; its `config` section is a K2 config layer. */
export interface StackFile {
  startedAt: string;
  services: Record<string, { pid: number; ports: number[]; log: string }>;
  config: {
    kafka: { brokers: string[] };
    registry: { url: string };
    catalog: { host: string; port: number; database: string; user: string; password: string };
    s3: { endpoint: string; region: string; bucket: string; accessKeyId: string; secretAccessKey: string };
  };
}
