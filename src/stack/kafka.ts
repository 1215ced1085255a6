import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logLevel } from 'kafkajs';
import { createKafka } from '../kafka/client.js';
import type { StackContext } from './context.js';
import { requireJavaAndMaven } from './jvm.js';
import { resolveClasspath } from './maven.js';
import { run, spawnDetached, stopProcess } from './process.js';
import type { Service } from './service.js';

/** 3.9 is the newest line whose protocol versions kafkajs 2.x still speaks everywhere. */
export const kafkaVersion = '3.9.2';

const home = (ctx: StackContext) => join(ctx.dir, 'kafka');
const classpath = (ctx: StackContext) => `${join(ctx.cacheDir, `kafka-${kafkaVersion}`, 'lib')}/*`;

function serverProperties(ctx: StackContext): string {
  const { kafka, kafkaController } = ctx.ports;
  return `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${kafkaController}
listeners=PLAINTEXT://127.0.0.1:${kafka},CONTROLLER://127.0.0.1:${kafkaController}
advertised.listeners=PLAINTEXT://127.0.0.1:${kafka}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${join(home(ctx), 'data')}
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
# short sessions let tests that kill -9 a consumer rejoin its group in seconds
group.min.session.timeout.ms=1000
message.max.bytes=16777216
log.retention.hours=-1
log.segment.bytes=268435456
# a restart after kill -9 re-registers in seconds instead of waiting out the default 9 s session
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000
# the default 128 MiB cleaner buffer is most of a small broker's heap
log.cleaner.dedupe.buffer.size=16777216
`;
}

const log4j = `log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaConfig=WARN
log4j.logger.org.apache.kafka.common.config.AbstractConfig=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
`;

/** The storage tool prints its answer on stdout, so its own logging goes to stderr. */
const toolsLog4j = `log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
`;

function storageTool(ctx: StackContext, args: string[]): string {
  const config = `-Dlog4j.configuration=file:${join(home(ctx), 'tools-log4j.properties')}`;
  return run('java', [config, '-cp', classpath(ctx), 'kafka.tools.StorageTool', ...args]).trim();
}

export const kafkaService: Service = {
  name: 'kafka',
  marker: 'kafka.Kafka',
  readyTimeoutMs: 90_000,
  ports: (ctx) => [ctx.ports.kafka, ctx.ports.kafkaController],
  logFile: (ctx) => join(ctx.dir, 'logs', 'kafka.log'),

  async prerequisites() {
    requireJavaAndMaven('kafka');
  },

  async install(ctx) {
    resolveClasspath(ctx, 'kafka', `kafka-${kafkaVersion}`, [
      { groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', version: kafkaVersion },
      { groupId: 'ch.qos.reload4j', artifactId: 'reload4j', version: '1.2.25' },
      { groupId: 'org.slf4j', artifactId: 'slf4j-reload4j', version: '1.7.36' },
    ]);
    mkdirSync(join(home(ctx), 'data'), { recursive: true });
    // Ports may change between runs; the config is rewritten, the formatted storage is kept.
    writeFileSync(join(home(ctx), 'server.properties'), serverProperties(ctx));
    writeFileSync(join(home(ctx), 'log4j.properties'), log4j);
    writeFileSync(join(home(ctx), 'tools-log4j.properties'), toolsLog4j);
    if (existsSync(join(home(ctx), 'data', 'meta.properties'))) return;
    const clusterId = storageTool(ctx, ['random-uuid']);
    if (!/^[A-Za-z0-9_-]{22}$/.test(clusterId))
      throw new Error(`unexpected cluster id from StorageTool: ${clusterId}`);
    storageTool(ctx, [
      'format',
      '-t',
      clusterId,
      '-c',
      join(home(ctx), 'server.properties'),
      '--ignore-formatted',
    ]);
  },

  async start(ctx) {
    return spawnDetached(
      'java',
      [
        '-Xmx512m',
        '-XX:+UseSerialGC',
        '-Djava.awt.headless=true',
        `-Dlog4j.configuration=file:${join(home(ctx), 'log4j.properties')}`,
        `-Dkafka.logs.dir=${join(ctx.dir, 'logs')}`,
        '-cp',
        classpath(ctx),
        'kafka.Kafka',
        join(home(ctx), 'server.properties'),
      ],
      { logFile: this.logFile(ctx) },
    ).pid;
  },

  async ready(ctx) {
    const admin = createKafka({
      clientId: 'k2-stack',
      brokers: [`127.0.0.1:${ctx.ports.kafka}`],
      connectionTimeout: 1_000,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    }).admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0 && cluster.controller !== null;
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  },

  async stop(_ctx, pid) {
    await stopProcess(pid, 30_000);
  },
};
