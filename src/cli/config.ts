import type { Command } from 'commander';
import { describeConfig, loadConfig } from '../config/index.js';

export function registerConfigCommand(program: Command): void {
  program
    .command('config')
    .description(
      'validate the configuration (defaults < .k2/stack.json < K2_CONFIG file < K2_* env) and print it, secrets masked',
    )
    .option('--json', 'print JSON')
    .option('-c, --config <file>', 'JSON config file (default: $K2_CONFIG)')
    .action((options: { json?: boolean; config?: string }) => {
      const described = describeConfig(loadConfig({ file: options.config }));
      if (options.json) {
        console.log(JSON.stringify(described, null, 2));
        return;
      }
      const width = Math.max(...Object.keys(described).map((k) => k.length));
      for (const [key, { value, source, env }] of Object.entries(described)) {
        console.log(`${key.padEnd(width)}  ${JSON.stringify(value).padEnd(40)} ${source.padEnd(7)} ${env}`);
      }
    });
}
