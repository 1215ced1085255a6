import type { Command } from 'commander';
import { stackContext } from '../stack/context.js';
import { stackDown, stackFilePath, stackStatus, stackUp } from '../stack/stack.js';

export function registerStackCommands(program: Command): void {
  const stack = program
    .command('stack')
    .description(
      'run the local development stack (Kafka, schema registry, PostgreSQL, S3) on 127.0.0.1, without Docker',
    );

  stack
    .command('up')
    .description(
      'install what is missing, start what is not running, wait until every service answers, write .k2/stack.json',
    )
    .action(async () => {
      const ctx = stackContext();
      await stackUp(ctx);
      console.log(`stack is up; endpoints in ${stackFilePath(ctx)} (stop it with: npm run stack:down)`);
    });

  stack
    .command('down')
    .description('stop the services this stack started (by pid)')
    .option('--wipe', 'also delete their data under .k2/ (downloads stay cached)')
    .action(async (options: { wipe?: boolean }) => {
      await stackDown(stackContext(), { wipe: options.wipe === true });
    });

  stack
    .command('status')
    .description('show each service: pid, ports, whether it answers; exits 3 unless all are up')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const states = await stackStatus(stackContext());
      if (options.json) console.log(JSON.stringify(states, null, 2));
      else {
        for (const s of states) {
          const state = s.ready ? 'up' : s.running ? 'running, not answering' : 'stopped';
          console.log(
            `${s.name.padEnd(9)} ${state.padEnd(23)} pid ${String(s.pid ?? '-').padEnd(8)} ports ${s.ports.join(',')}`,
          );
        }
      }
      if (!states.every((s) => s.ready)) process.exitCode = 3;
    });
}
