import type { Command } from 'commander';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('bring the local stack up and push sample data through the pipeline')
    .action(async () => {
      const { runDemo } = await import('../demo/demo.js');
      await runDemo();
    });
}
