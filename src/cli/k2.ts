#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import './quiet-sdk.js';
import { K2Error } from '../errors/index.js';
import { registerConfigCommand } from './config.js';
import { registerDemoCommand } from './demo.js';
import { registerIcebergCommands } from './iceberg.js';
import { registerProduceCommands } from './produce.js';
import { registerQueryCommands } from './query.js';
import { registerStackCommands } from './stack.js';
import { registerStatusCommand } from './status.js';

const program = new Command()
  .name('k2')
  .description('K2: market data from Kafka into Apache Iceberg, exactly once')
  .showHelpAfterError()
  .exitOverride();

registerStackCommands(program);
registerConfigCommand(program);
registerDemoCommand(program);
registerIcebergCommands(program);
registerStatusCommand(program);
registerQueryCommands(program);
registerProduceCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  if (error instanceof K2Error) {
    console.error(`k2: ${error.message}`);
    process.exit(error.code === 'K2_CONFIG_INVALID' ? 78 : 1);
  }
  if (process.env.K2_DEBUG) throw error;
  console.error(`k2: ${error instanceof Error ? error.message : String(error)} (K2_DEBUG=1 shows the stack)`);
  process.exit(1);
}
