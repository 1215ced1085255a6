import { describe, expect, it } from 'vitest';
import { K2Error } from '../../src/errors/index.js';
import { backoffDelay, defaultRetryPolicy, retry } from '../../src/util/retry.js';

const fast = { initialDelayMs: 1, maxDelayMs: 5 };

describe('retry', () => {
  it('retries retriable errors until success', async () => {
    let calls = 0;
    const result = await retry(
      async () => {
        calls++;
        if (calls < 3) throw new K2Error('X', 'flaky', { retriable: true });
        return 'ok';
      },
      { policy: fast },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('gives up after the attempts and rethrows the last error', async () => {
    let calls = 0;
    const error = new K2Error('X', 'down', { retriable: true });
    await expect(
      retry(
        async () => {
          calls++;
          throw error;
        },
        { policy: { ...fast, attempts: 4 } },
      ),
    ).rejects.toBe(error);
    expect(calls).toBe(4);
  });

  it('never retries a permanent error, nor a programming error even when asked to', async () => {
    const cases: [Error, ((e: unknown) => boolean) | undefined][] = [
      [new K2Error('X', 'poison'), undefined],
      [new TypeError('bug'), () => true],
    ];
    for (const [error, shouldRetry] of cases) {
      let calls = 0;
      await expect(
        retry(
          async () => {
            calls++;
            throw error;
          },
          { policy: fast, shouldRetry },
        ),
      ).rejects.toBe(error);
      expect(calls).toBe(1);
    }
  });

  it('grows delays exponentially within the bound, with jitter', () => {
    const policy = { ...defaultRetryPolicy, jitter: 0 };
    expect([1, 2, 3, 10].map((a) => backoffDelay(policy, a))).toEqual([200, 400, 800, 10_000]);
    const jittered = { ...defaultRetryPolicy, jitter: 0.5 };
    expect(backoffDelay(jittered, 2, () => 0)).toBe(200);
    expect(backoffDelay(jittered, 2, () => 1)).toBe(600);
    expect(backoffDelay(jittered, 20, () => 1)).toBe(10_000);
  });

  it('stops waiting when aborted', async () => {
    const controller = new AbortController();
    const pending = retry(
      async () => {
        throw new K2Error('X', 'down', { retriable: true });
      },
      { policy: { initialDelayMs: 10_000, attempts: 5 }, signal: controller.signal },
    );
    controller.abort(new Error('shutdown'));
    await expect(pending).rejects.toThrow('shutdown');
  });
});
