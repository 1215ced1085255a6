export {
  type ConfigSource,
  describeConfig,
  type LoadedConfig,
  type LoadOptions,
  loadConfig,
} from './load.js';
export { configSchema, type K2Config } from './schema.js';
