import type { OutboundMessage, TopicBatch } from './sink.js';

export interface StreamBatcherOptions {
  /** Hands a batch to the sink; returns when the next one may follow (KafkaSink.enqueue). */
  send: (batches: TopicBatch[]) => Promise<void>;
  /** Messages per send, at most. */
  batchSize: number;
  /** A message waits at most this long for others to share its send. */
  lingerMs: number;
  /** Buffered messages at which the source is paused, until half of them are sent. */
  maxBuffered: number;
  /** Called with true to pause the source, false to resume it. */
  onPressure?: (paused: boolean) => void;
  onBuffered?: (count: number) => void;
}

/**
 * Groups messages of a push source (a websocket) into batches, in arrival order: a full batch goes
 * at once, a lone message after the linger time, and what arrived during a send right after it.
 * Bounded: at maxBuffered it asks the source to pause.
 */
export class StreamBatcher {
  readonly #options: StreamBatcherOptions;
  #buffer: TopicMessage[] = [];
  #timer: NodeJS.Timeout | undefined;
  #draining: Promise<void> | undefined;
  #paused = false;

  constructor(options: StreamBatcherOptions) {
    this.#options = options;
  }

  get buffered(): number {
    return this.#buffer.length;
  }

  push(topic: string, message: OutboundMessage): void {
    this.#buffer.push({ topic, key: message.key, value: message.value });
    this.#options.onBuffered?.(this.#buffer.length);
    if (!this.#paused && this.#buffer.length >= this.#options.maxBuffered) {
      this.#paused = true;
      this.#options.onPressure?.(true);
    }
    if (this.#buffer.length >= this.#options.batchSize) this.#drain();
    else this.#timer ??= setTimeout(() => this.#drain(), this.#options.lingerMs);
  }

  /** Sends everything buffered and waits for it. */
  async close(): Promise<void> {
    while (this.#buffer.length > 0 || this.#draining) {
      this.#drain();
      await this.#draining;
    }
  }

  #drain(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#draining ??= this.#sendAll().finally(() => {
      this.#draining = undefined;
    });
  }

  async #sendAll(): Promise<void> {
    while (this.#buffer.length > 0) {
      const taken = this.#buffer.splice(0, this.#options.batchSize);
      this.#options.onBuffered?.(this.#buffer.length);
      await this.#options.send(groupByTopic(taken));
      if (this.#paused && this.#buffer.length <= this.#options.maxBuffered / 2) {
        this.#paused = false;
        this.#options.onPressure?.(false);
      }
    }
  }
}

/** A message with its topic, as sources hand them over. */
export interface TopicMessage extends OutboundMessage {
  topic: string;
}

/** Batches per topic, each in arrival order. */
export function groupByTopic(items: readonly TopicMessage[]): TopicBatch[] {
  const byTopic = new Map<string, OutboundMessage[]>();
  for (const { topic, key, value } of items) {
    const messages = byTopic.get(topic);
    if (messages) messages.push({ key, value });
    else byTopic.set(topic, [{ key, value }]);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
