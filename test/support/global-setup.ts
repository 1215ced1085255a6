import type { TestProject } from 'vitest/node';
import '../../src/cli/quiet-sdk.js';
import { type StackFile, stackContext } from '../../src/stack/context.js';
import { stackDown, stackStatus, stackUp } from '../../src/stack/stack.js';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackFile;
  }
}

/**
 * Integration tests run against the real local stack, brought up by the same code as `k2 stack up`.
 * A stack that was already running is left running; one this run started is stopped afterwards
 * unless K2_KEEP_STACK=1.
 */
export default async function setup(project: TestProject) {
  const ctx = stackContext(process.env, (line) => console.log(`[stack] ${line}`));
  const wasUp = (await stackStatus(ctx)).every((s) => s.ready);
  const stack = await stackUp(ctx);
  project.provide('stack', stack);
  return async () => {
    if (!wasUp && process.env.K2_KEEP_STACK !== '1') await stackDown(ctx);
  };
}
