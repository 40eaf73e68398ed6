// The run object a scenario's runner talks to (runners/api.ts's RunnerApi): it holds what the run
// has started for the runner (the driver fleet, the agents' parts), takes the workers' results once,
// drains the target and checks for leaks. run.ts creates it once the target is up, hands it to the
// runner, then asks it to finish (drain, stop checks) or, after a failure, to keep what it can.

import { AgentsError, TargetError } from "../../errors.ts";
import type { Fleet } from "../driver/fleet.ts";
import type { WorkerPlan, WorkerStatus } from "../driver/messages.ts";
import { type Aggregate, aggregateWorkerResults } from "../metrics/aggregate.ts";
import { readCpu } from "../metrics/cpu.ts";
import type { PhaseRecorder } from "../phases.ts";
import type { Progress } from "../progress.ts";
import type { AgentResult } from "../result.ts";
import type { RunnerApi } from "../runners/api.ts";
import { POLL_MS } from "../runners/poll.ts";
import { recordLatency } from "../runners/record.ts";
import { type Scenario, scenarioModule } from "../scenario.ts";
import type { Target, TargetStats } from "../targets/target.ts";
import type { Transport } from "../targets/transports.ts";
import { clockUncertaintyWarning, perAgent } from "./agents-part.ts";
import type { LoadSource, StartedLoad } from "./load-source.ts";
import type { Observations } from "./observations.ts";
import type { RunGuard } from "./run-guard.ts";

/** How long the drain waits for the target to hold no waiter after every socket closed. */
const DRAIN_DEADLINE_MS = 10_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface RunnerSessionParts {
  scenario: Scenario;
  target: Target;
  phases: PhaseRecorder;
  progress: Progress;
  workers: number;
  runTag: string;
  repeat: number;
  warmedUpBy: number;
  transport: Transport;
  run: RunGuard;
  seen: Observations;
  load: LoadSource;
}

export class RunnerSession implements RunnerApi {
  readonly scenario: Scenario;
  readonly target: Target;
  readonly phases: PhaseRecorder;
  readonly progress: Progress;
  readonly workers: number;
  readonly runTag: string;
  readonly repeat: number;
  readonly warmedUpBy: number;
  readonly transport: Transport;
  readonly guard: RunGuard["guard"];
  readonly stopSignal: AbortSignal;
  readonly sleep = sleep;
  readonly metric: Observations["metric"];
  readonly warn: Observations["warn"];
  readonly flagDriverBound: Observations["flagDriverBound"];
  readonly flagBarrierApproximate: Observations["flagBarrierApproximate"];
  readonly targetFault: Observations["targetFault"];
  readonly countErrors: Observations["countErrors"];

  /** The driver workers, once the runner started them. */
  fleet: Fleet | undefined;
  /** On agents: each agent's part and waiters (known from the moment they are dealt). */
  private agents: StartedLoad["agents"];
  /** Per agent, once the workers' results were taken. */
  agentResults: AgentResult[] | undefined;
  private resultsTaken = false;
  private drained = false;

  constructor(private readonly parts: RunnerSessionParts) {
    ({
      scenario: this.scenario,
      target: this.target,
      phases: this.phases,
      progress: this.progress,
      workers: this.workers,
      runTag: this.runTag,
      repeat: this.repeat,
      warmedUpBy: this.warmedUpBy,
      transport: this.transport,
    } = parts);
    this.guard = parts.run.guard;
    this.stopSignal = parts.run.signal;
    const seen = parts.seen;
    this.metric = seen.metric;
    this.warn = seen.warn;
    this.flagDriverBound = seen.flagDriverBound;
    this.flagBarrierApproximate = seen.flagBarrierApproximate;
    this.targetFault = seen.targetFault;
    this.countErrors = seen.countErrors;
  }

  async startFleet(plans: WorkerPlan[]): Promise<Fleet> {
    if (this.fleet) throw new Error("one fleet per run");
    const { run, load } = this.parts;
    // Every waiter of the run hears over the run's transport (absent from the plan: long-poll).
    if (this.transport !== "long-poll") for (const p of plans) p.transport = this.transport;
    const started = await load.start(plans, run.guard, run.guardStart, (dealt) => {
      this.agents = dealt;
    });
    this.fleet = started.fleet;
    this.agents = started.agents;
    return this.fleet;
  }

  takeReports(): Promise<Aggregate> {
    return this.takeResults(true);
  }

  /** Aggregate the workers' results once and keep them. After a failure, called unguarded: the workers still answer. */
  private async takeResults(guarded: boolean): Promise<Aggregate> {
    const { seen } = this.parts;
    const pending = this.fleet ? this.fleet.results() : Promise.resolve([]);
    const results = await (guarded ? this.guard(pending) : pending);
    const aggregate = aggregateWorkerResults(results);
    if (this.fleet && this.agents && !this.agentResults) {
      this.agentResults = perAgent(this.agents.shares, this.agents.waiters, this.fleet.agents, results);
      const latency = aggregate.histograms.latency;
      const clockWarning = clockUncertaintyWarning(this.scenario.name, this.agentResults, latency);
      if (clockWarning) seen.warn(clockWarning);
    }
    if (!this.resultsTaken) {
      this.resultsTaken = true;
      Object.assign(seen.histograms, aggregate.histograms);
      seen.deliveries = aggregate.deliveries;
      seen.countErrors(aggregate.errorReasons);
      recordLatency(seen, "connect", aggregate.histograms.connect);
    }
    return aggregate;
  }

  readCpu(): ReturnType<RunnerApi["readCpu"]> {
    const fleet = this.fleet;
    const driver = async () => (fleet ? (await this.guard(fleet.statuses())).map((s) => s.cpuUs) : []);
    return readCpu(this.target, driver);
  }

  /** The target's memory now: its stats page's figures, RSS from /proc where it runs here. */
  async readMemory(gc = false): Promise<TargetStats> {
    const stats = (await this.target.stats(gc).catch(() => undefined)) ?? {};
    const proc = this.target.procSample();
    return proc ? { ...stats, rssBytes: proc.rssBytes } : stats;
  }

  async failIfTargetGone(status: WorkerStatus): Promise<void> {
    if (status.errors === 0) return;
    const gone = await this.guard(this.target.checkGone());
    if (gone !== undefined) throw new TargetError(`target died mid-run: ${gone}`);
  }

  /**
   * Close every waiter socket and wait until the target holds none (or DRAIN_DEADLINE_MS passes):
   * parked_after_drain, and a LEAK warning where waiters stayed (unless the type judges that itself).
   */
  async drain(): Promise<number | undefined> {
    this.drained = true;
    const { fleet, target, scenario, guard } = this;
    const { seen } = this.parts;
    if (!fleet) return undefined;
    const opened = (await guard(fleet.status())).opened;
    await guard(fleet.closeSockets());
    const deadline = Date.now() + DRAIN_DEADLINE_MS;
    let left = (await guard(target.stats().catch(() => undefined)))?.waiters;
    // A count above the waiters opened cannot fall to 0 by waiting: no need to wait it out.
    while (left !== undefined && left > 0 && left <= opened && Date.now() < deadline) {
      this.progress.detail(`parked ${left}`);
      await guard(sleep(POLL_MS));
      left = (await guard(target.stats().catch(() => undefined)))?.waiters;
    }
    if (left === undefined) return undefined;
    if (left > opened) {
      seen.warn(
        `${scenario.name}: ${target.name}'s stats say ${left} parked after the drain, more than the ${opened} waiters this run opened: not a figure (the stats cannot be true)`,
      );
      return undefined;
    }
    seen.metric("parked_after_drain", left);
    if (left > 0 && !scenarioModule(scenario).drainJudgedByItself) {
      seen.warn(
        `${scenario.name}: LEAK: ${left} waiters still parked ${DRAIN_DEADLINE_MS / 1000} s after every client closed its connection`,
      );
    }
    return left;
  }

  /** After the runner: drain if it did not, then the figures and checks that end a run. */
  async finish(): Promise<void> {
    const { seen } = this.parts;
    if (this.fleet && !this.drained) {
      this.phases.begin("drain");
      await this.drain();
    }
    seen.metric("driver_bound", seen.driverBoundPhases.length > 0 ? 1 : 0);
    this.phases.begin("stop");
    for (const fault of this.target.statsFaults())
      seen.targetFault(`${this.scenario.name}: ${this.target.name}: ${fault}`);
    if (seen.targetFaults.length > 0) throw new TargetError(seen.targetFaults.join("; "));
  }

  /** After a failure: what was lost with an agent, and what the workers measured if they can still say. */
  async salvage(error: unknown): Promise<void> {
    // An agent lost mid-run: its waiters are the load generator's loss, not the server's misses.
    const lost = error instanceof AgentsError ? error.agent : undefined;
    if (lost !== undefined && this.agents?.waiters.has(lost))
      this.parts.seen.metric("load_generator_lost_waiters", this.agents.waiters.get(lost) as number);
    if (this.fleet && !this.resultsTaken) await this.takeResults(false).catch(() => undefined);
  }
}
