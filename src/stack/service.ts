import type { StackContext } from './context.js';

/** One service of the local stack. Each step is idempotent. */
export interface Service {
  readonly name: string;
  /** A string the service's command line must contain, so that a recycled pid is never mistaken for it. */
  readonly marker: string;
  readonly readyTimeoutMs: number;
  ports(ctx: StackContext): number[];
  logFile(ctx: StackContext): string;
  /** Checks (and, where the design says so, installs) system prerequisites; throws a StackError naming what is missing. */
  prerequisites(ctx: StackContext): Promise<void>;
  /** Fetches and prepares what the service runs, cached under ctx.cacheDir. */
  install(ctx: StackContext): Promise<void>;
  /** Starts the service in the background and returns its pid. */
  start(ctx: StackContext): Promise<number>;
  ready(ctx: StackContext): Promise<boolean>;
  /** Runs once the service answers: buckets, databases, settings. */
  afterReady?(ctx: StackContext): Promise<void>;
  stop(ctx: StackContext, pid: number): Promise<void>;
}
