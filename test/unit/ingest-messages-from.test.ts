import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { messagesFrom } from '../../src/supervisor/ingest.js';

const messages = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({ offset: String(from + i) }) as KafkaMessage);

describe('messagesFrom: the messages of a fetch the partition has not accepted yet', () => {
  it('keeps the whole batch when it starts at or past the offset, the same array', () => {
    const batch = messages(100, 5);
    expect(messagesFrom(batch, 100n)).toBe(batch);
    expect(messagesFrom(batch, 7n)).toBe(batch);
  });

  it('drops the records of a compressed batch that start before the offset', () => {
    expect(messagesFrom(messages(95, 10), 100n).map((m) => m.offset)).toEqual([
      '100',
      '101',
      '102',
      '103',
      '104',
    ]);
  });

  it('returns nothing when every message is behind, and compares offsets past 2^53 exactly', () => {
    expect(messagesFrom(messages(0, 3), 3n)).toEqual([]);
    const big = [{ offset: '9007199254740993' }, { offset: '9007199254740994' }] as KafkaMessage[];
    expect(messagesFrom(big, 9_007_199_254_740_994n).map((m) => m.offset)).toEqual(['9007199254740994']);
  });
});
