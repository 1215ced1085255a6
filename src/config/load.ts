import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../errors/index.js';
import { type ConfigSchema, configSchema, type Field, type K2Config } from './schema.js';

export type ConfigSource = 'default' | 'stack' | 'file' | 'env';

export interface LoadedConfig {
  config: K2Config;
  /** Where each key's value came from, by dotted key. */
  sources: Record<string, ConfigSource>;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** A JSON config file; by default K2_CONFIG. */
  file?: string;
  /** The local stack's endpoints file; by default K2_STACK_FILE or ./.k2/stack.json when present. */
  stackFile?: string | false;
}

type Layer = { source: ConfigSource; values: Record<string, unknown>; origin: string };

/** Reads defaults, the local stack's endpoints, the config file and the environment, in that order of precedence. */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const layers: Layer[] = [];
  const stackFile = options.stackFile === false ? undefined : (options.stackFile ?? defaultStackFile(env));
  if (stackFile)
    layers.push({
      source: 'stack',
      values: readJsonObject(stackFile, 'K2_STACK_FILE').config ?? {},
      origin: stackFile,
    });
  const file = options.file ?? env.K2_CONFIG;
  if (file) layers.push({ source: 'file', values: readJsonObject(file, 'K2_CONFIG'), origin: file });

  const config: Record<string, Record<string, unknown>> = {};
  const sources: Record<string, ConfigSource> = {};
  for (const layer of layers) rejectUnknownKeys(layer);

  for (const [sectionName, section] of Object.entries(configSchema)) {
    const values: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(section) as [string, Field<unknown>][]) {
      const dotted = `${sectionName}.${key}`;
      const envValue = env[spec.env];
      if (envValue !== undefined && envValue !== '') {
        values[key] = spec.parse(envValue, spec.env);
        sources[dotted] = 'env';
        continue;
      }
      const layer = [...layers].reverse().find((l) => lookup(l.values, sectionName, key) !== undefined);
      if (layer) {
        values[key] = spec.parse(lookup(layer.values, sectionName, key), `${dotted} (in ${layer.origin})`);
        sources[dotted] = layer.source;
      } else if (spec.default !== undefined) {
        values[key] = spec.default;
        sources[dotted] = 'default';
      } else {
        throw new ConfigError(
          spec.env,
          `is required (${spec.doc}); set it in the environment or as ${dotted} in the config file`,
        );
      }
    }
    config[sectionName] = Object.freeze(values);
  }
  const typed = Object.freeze(config) as unknown as K2Config;
  checkCrossFieldRules(typed);
  return { config: typed, sources };
}

function checkCrossFieldRules(config: K2Config): void {
  if (config.kafka.heartbeatIntervalMs >= config.kafka.sessionTimeoutMs) {
    throw new ConfigError(
      configSchema.kafka.heartbeatIntervalMs.env,
      `must be below ${configSchema.kafka.sessionTimeoutMs.env} (${config.kafka.heartbeatIntervalMs} >= ${config.kafka.sessionTimeoutMs})`,
    );
  }
  const outside = config.supervisor.lowPriorityTopics.filter((t) => !config.supervisor.topics.includes(t));
  if (outside.length > 0) {
    throw new ConfigError(
      configSchema.supervisor.lowPriorityTopics.env,
      `must be among ${configSchema.supervisor.topics.env}; not landed: ${outside.join(', ')}`,
    );
  }
  if (config.pool.minThreads > config.pool.maxThreads) {
    throw new ConfigError(
      configSchema.pool.minThreads.env,
      `must not exceed ${configSchema.pool.maxThreads.env} (${config.pool.minThreads} > ${config.pool.maxThreads})`,
    );
  }
}

function defaultStackFile(env: NodeJS.ProcessEnv): string | undefined {
  if (env.K2_STACK_FILE) return env.K2_STACK_FILE;
  const local = resolve('.k2', 'stack.json');
  return existsSync(local) ? local : undefined;
}

function readJsonObject(
  path: string,
  key: string,
): Record<string, Record<string, unknown>> & { config?: Record<string, unknown> } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(key, `cannot read ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(key, `${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(key, `${path} must hold a JSON object`);
  }
  return parsed as Record<string, Record<string, unknown>>;
}

function lookup(values: Record<string, unknown>, section: string, key: string): unknown {
  const sectionValues = values[section];
  return sectionValues && typeof sectionValues === 'object'
    ? (sectionValues as Record<string, unknown>)[key]
    : undefined;
}

/** A typo in a file is an error, not a silently ignored key. */
function rejectUnknownKeys(layer: Layer): void {
  const schema: ConfigSchema = configSchema;
  for (const [section, values] of Object.entries(layer.values)) {
    const known = (schema as Record<string, Record<string, unknown>>)[section];
    if (!known)
      throw new ConfigError(
        `${section} (in ${layer.origin})`,
        `unknown section; known: ${Object.keys(schema).join(', ')}`,
      );
    if (values === null || typeof values !== 'object' || Array.isArray(values)) {
      throw new ConfigError(`${section} (in ${layer.origin})`, 'must be an object');
    }
    for (const key of Object.keys(values)) {
      if (!(key in known)) {
        throw new ConfigError(
          `${section}.${key} (in ${layer.origin})`,
          `unknown key; known: ${Object.keys(known).join(', ')}`,
        );
      }
    }
  }
}

/** The effective configuration for display: secrets masked, each value with its source. */
export function describeConfig(
  loaded: LoadedConfig,
): Record<string, { value: unknown; source: ConfigSource; env: string }> {
  const out: Record<string, { value: unknown; source: ConfigSource; env: string }> = {};
  for (const [sectionName, section] of Object.entries(configSchema)) {
    for (const [key, spec] of Object.entries(section) as [string, Field<unknown>][]) {
      const dotted = `${sectionName}.${key}`;
      const value = (loaded.config as unknown as Record<string, Record<string, unknown>>)[sectionName]?.[key];
      out[dotted] = {
        value: spec.secret ? '***' : value,
        source: loaded.sources[dotted] ?? 'default',
        env: spec.env,
      };
    }
  }
  return out;
}
