import { randomUUID } from 'node:crypto';
import type { Message } from 'kafkajs';
import { avroType } from '../../src/codec/avro-types.js';
import { parseDecimal } from '../../src/codec/decimal.js';
import { avroSchemaText } from '../../src/codec/schemas.js';
import { frame } from '../../src/codec/wire.js';
import { Partitioners } from '../../src/kafka/client.js';
import { Registry } from '../../src/registry/registry.js';
import { valueSubject } from '../../src/registry/subjects.js';
import { kafka, stack } from './stack.js';

export const T0 = 1_735_689_600_000_000n; // 2025-01-01T00:00:00Z in µs
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'AAPL'];

export interface TestTrade {
  messageId: string;
  symbol: string;
  sequence: bigint;
  value: Buffer;
}

/** Registers trade_v2 for `topic` in the real registry and returns its id. */
export async function registerTrades(topic: string): Promise<number> {
  return new Registry({ url: stack().registry.url }).register(
    valueSubject(topic),
    avroSchemaText('trade_v2'),
  );
}

/** Trade `i` as K2's producers encode it (Confluent framing, exact decimals). */
export function encodeTrade(schemaId: number, i: number, runId = randomUUID().slice(0, 8)): TestTrade {
  const symbol = SYMBOLS[i % SYMBOLS.length]!;
  const sequence = BigInt(1_000 + Math.floor(i / SYMBOLS.length));
  const messageId = `${runId}-${i}`;
  const record = {
    message_id: messageId,
    trade_id: String(sequence),
    symbol,
    exchange: symbol === 'AAPL' ? 'NASDAQ' : 'BINANCE',
    asset_class: symbol === 'AAPL' ? 'EQUITY' : 'CRYPTO',
    timestamp: T0 + BigInt(i) * 1_000n,
    price: parseDecimal(`${100 + (i % 50)}.${String(i % 100_000_000).padStart(8, '0')}`, 8),
    quantity: parseDecimal('0.5', 8),
    currency: symbol === 'AAPL' ? 'USD' : 'USDT',
    side: i % 2 === 0 ? 'BUY' : 'SELL',
    trade_conditions: [],
    // avsc picks a nullable long's branch only for numbers; sequences here stay below 2^53.
    source_sequence: Number(sequence),
    ingestion_timestamp: T0 + BigInt(i) * 1_000n + 250n,
    platform_sequence: null,
    vendor_data: null,
  };
  return {
    messageId,
    symbol,
    sequence,
    value: frame(schemaId, avroType(JSON.parse(avroSchemaText('trade_v2'))).toBuffer(record)),
  };
}

/** Produces messages (values keyed by symbol, or any kafkajs message) with an idempotent producer. */
export async function produce(topic: string, messages: Message[], brokers?: string[]): Promise<void> {
  const producer = kafka('k2-test-producer', brokers).producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  for (let i = 0; i < messages.length; i += 1_000) {
    await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1_000) });
  }
  await producer.disconnect();
}

export interface TradeStream {
  /** message_ids acknowledged so far. */
  readonly produced: readonly string[];
  /** Stops after the send in flight; rejects if any send failed. Returns every acknowledged message_id. */
  stop(): Promise<string[]>;
}

/**
 * Keeps producing: `perTick` new trades every `everyMs` (trade indices continue from `firstIndex`),
 * each send acknowledged by all replicas before the next; a trade counts as produced once acknowledged.
 */
export function streamTrades(
  topic: string,
  schemaId: number,
  options: { perTick: number; everyMs: number; runId: string; firstIndex?: number; brokers?: string[] },
): TradeStream {
  const producer = kafka('k2-test-stream', options.brokers).producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const produced: string[] = [];
  let next = options.firstIndex ?? 0;
  let stopped = false;
  const loop = (async () => {
    await producer.connect();
    try {
      while (!stopped) {
        const started = Date.now();
        const trades = Array.from({ length: options.perTick }, (_, i) =>
          encodeTrade(schemaId, next + i, options.runId),
        );
        next += options.perTick;
        await producer.send({
          topic,
          acks: -1,
          messages: trades.map((t) => ({ key: t.symbol, value: t.value })),
        });
        produced.push(...trades.map((t) => t.messageId));
        await new Promise((r) => setTimeout(r, Math.max(0, options.everyMs - (Date.now() - started))));
      }
    } finally {
      await producer.disconnect();
    }
  })();
  loop.catch(() => undefined);
  return {
    produced,
    stop: async () => {
      stopped = true;
      await loop;
      return [...produced];
    },
  };
}
