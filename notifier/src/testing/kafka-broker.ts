import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { access, mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort } from "@wsync/local-stack/free-port";
import { Kafka, logLevel } from "kafkajs";

const stackDir = fileURLToPath(new URL("../../../scripts/stack/", import.meta.url));
const cacheDir =
  process.env.WSYNC_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "wsync");
const libs = join(cacheDir, "kafka-4.4.0", "libs");

export interface KafkaBroker {
  brokers: string[];
  /** SIGTERM and wait for the JVM to exit: the broker's data and ports stay for `start`. */
  stop(): Promise<void>;
  /** Starts the same broker again (same data, same ports) and waits until it serves. */
  start(): Promise<void>;
  /** Stops it and deletes its data. */
  dispose(): Promise<void>;
}

/**
 * A Kafka broker of the test's own, for the tests that stop and restart Kafka: the stack suite's broker
 * is shared by every test file running at the same time and must not go away under them. Same broker
 * and settings as scripts/stack/kafka.sh (KRaft, one node), whose `provision` fills the jar cache.
 */
export async function startKafkaBroker(): Promise<KafkaBroker> {
  await promisify(execFile)("bash", [join(stackDir, "kafka.sh"), "provision"]);
  await access(join(libs, ".complete"));
  const dir = await mkdtemp(join(tmpdir(), "wsync-notifier-kafka-"));
  const [port, controllerPort] = [await freePort(), await freePort()];
  await writeFile(
    join(dir, "server.properties"),
    [
      "process.roles=broker,controller",
      "node.id=1",
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
      "controller.listener.names=CONTROLLER",
      "inter.broker.listener.name=PLAINTEXT",
      `log.dirs=${join(dir, "data")}`,
      "offsets.topic.replication.factor=1",
      "transaction.state.log.replication.factor=1",
      "transaction.state.log.min.isr=1",
      "share.coordinator.state.topic.replication.factor=1",
      "share.coordinator.state.topic.min.isr=1",
      "group.initial.rebalance.delay.ms=0",
      "auto.create.topics.enable=false",
      "",
    ].join("\n"),
  );
  const javaArgs = [
    "-Xmx256m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    `-Dlog4j2.configurationFile=${join(stackDir, "kafka", "log4j2.properties")}`,
    "-cp",
    `${libs}/*`,
  ];
  await promisify(execFile)("java", [
    ...javaArgs,
    "kafka.tools.StorageTool",
    "format",
    "-t",
    "wsyncNotifierTestKafka1",
    "-c",
    join(dir, "server.properties"),
  ]);
  const brokers = [`127.0.0.1:${port}`];
  let jvm: ChildProcess | undefined;

  async function start() {
    const log = createWriteStream(join(dir, "kafka.log"), { flags: "a" });
    jvm = spawn("java", [...javaArgs, "kafka.Kafka", join(dir, "server.properties")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    jvm.stdout?.pipe(log);
    jvm.stderr?.pipe(log);
    await untilServing(brokers);
  }

  async function stop() {
    const running = jvm;
    jvm = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGTERM");
    const killer = setTimeout(() => running.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(killer);
  }

  await start();
  return {
    brokers,
    start,
    stop,
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The port opens seconds before the broker can serve; it serves once it can create a topic. */
async function untilServing(brokers: string[]): Promise<void> {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: "wsync-test-ready" }], waitForLeaders: true });
      await admin.disconnect();
      return;
    } catch (error) {
      await admin.disconnect().catch(() => {});
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
