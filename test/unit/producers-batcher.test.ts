import { describe, expect, it } from 'vitest';
import { groupByTopic, StreamBatcher } from '../../src/producers/batcher.js';
import type { TopicBatch } from '../../src/producers/sink.js';

const message = (i: number) => ({ key: `K${i % 2}`, value: Buffer.from([i]) });
const values = (batches: TopicBatch[][]) =>
  batches.map((b) => b.flatMap((t) => t.messages.map((m) => m.value[0])));

describe('stream batching', () => {
  it('sends a full batch at once, a lone message after the linger time, and what arrives during a send right after it', async () => {
    const sent: TopicBatch[][] = [];
    const batcher = new StreamBatcher({
      send: async (b) => {
        sent.push(b);
      },
      batchSize: 3,
      lingerMs: 30,
      maxBuffered: 100,
    });
    for (let i = 0; i < 4; i++) batcher.push('t', message(i));
    await new Promise((r) => setTimeout(r, 5));
    expect(values(sent)).toEqual([[0, 1, 2], [3]]);
    batcher.push('t', message(4));
    await new Promise((r) => setTimeout(r, 5));
    expect(values(sent)).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 60));
    expect(values(sent)).toEqual([[0, 1, 2], [3], [4]]);
    await batcher.close();
  });

  it('pauses the source at the bound and resumes it once half is sent; close sends everything', async () => {
    const pressure: boolean[] = [];
    let release: () => void = () => undefined;
    const sent: TopicBatch[][] = [];
    const batcher = new StreamBatcher({
      send: async (b) => {
        sent.push(b);
        await new Promise<void>((r) => {
          release = r;
        });
      },
      batchSize: 2,
      lingerMs: 1_000,
      maxBuffered: 6,
      onPressure: (paused) => pressure.push(paused),
    });
    for (let i = 0; i < 8; i++) batcher.push('t', message(i));
    expect(pressure).toEqual([true]);
    const closing = batcher.close();
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 1));
      release();
    }
    await closing;
    expect(pressure).toEqual([true, false]);
    expect(values(sent)).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7],
    ]);
  });

  it('groups by topic, keeping order within each', () => {
    const batches = groupByTopic([
      { topic: 'a', ...message(1) },
      { topic: 'b', ...message(2) },
      { topic: 'a', ...message(3) },
    ]);
    expect(batches.map((b) => [b.topic, b.messages.map((m) => m.value[0])])).toEqual([
      ['a', [1, 3]],
      ['b', [2]],
    ]);
  });
});
