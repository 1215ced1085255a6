import './cli/quiet-sdk.js';
import { describeConfig, loadConfig } from './config/index.js';
import { K2Error } from './errors/index.js';
import { startSupervisor } from './supervisor/supervisor.js';

/** `node dist/supervisor.js`: the K2 ingestion service. */
try {
  const loaded = loadConfig();
  console.log(JSON.stringify({ msg: 'k2 supervisor starting', config: describeConfig(loaded) }));
  await startSupervisor(loaded.config, {
    onHealthShutdown: (reason) => {
      console.error(`k2 supervisor: stopped at health level SHUTDOWN (${reason}); exiting for a restart`);
      process.exit(1);
    },
  });
} catch (error) {
  if (error instanceof K2Error) {
    console.error(`k2 supervisor: ${error.message}`);
    process.exit(error.code === 'K2_CONFIG_INVALID' ? 78 : 1);
  }
  throw error;
}
