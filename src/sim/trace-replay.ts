// Replays a requests-per-second trace (one value per second) against an autoscaler, with a model
// of instances: each serves up to `capacity` rps once ready, and becomes ready a seeded uniform
// whole number of seconds in [startDelay.min, startDelay.max] after it is asked for. Scale-in
// removes starting instances first (they serve nothing), then ready ones, at once.
import { seededRandom } from '../core/random.js';

/** What the autoscaler sees at the end of each simulated second. */
export interface LoadObservation {
  readonly second: number;
  /** Requests per second that arrived in this second (the edge's count, served or not). */
  readonly demand: number;
  /** Instances asked for, starting ones included. */
  readonly replicas: number;
  readonly ready: number;
}

/** Anything that turns observations into a desired count: berth's decide() or the HPA. */
export interface TraceAutoscaler {
  readonly name: string;
  /** Called once per simulated second, in order; returns the desired count. */
  tick(observation: LoadObservation): number;
}

export interface InstanceModel {
  /** rps one ready instance serves; demand above ready × capacity is overload. */
  readonly capacity: number;
  /** seconds from being asked for to ready, inclusive bounds */
  readonly startDelay: { readonly min: number; readonly max: number };
  readonly seed: number;
}

export interface ReplayRun {
  /** Σ over seconds of instances alive (starting or ready). */
  readonly instanceSeconds: number;
  /** Seconds in which demand exceeded ready capacity. */
  readonly overloadSeconds: number;
  /** Times the autoscaler changed the count. */
  readonly replicaChanges: number;
  /** Ready instances in each second, for the step analysis. */
  readonly ready: Int32Array;
  readonly peakReplicas: number;
}

export function replay(
  trace: ArrayLike<number>,
  autoscaler: TraceAutoscaler,
  model: InstanceModel,
  initialReplicas: number,
): ReplayRun {
  const random = seededRandom(model.seed);
  const readySeries = new Int32Array(trace.length);
  let ready = initialReplicas;
  let starting: number[] = []; // second from which each starting instance serves
  let instanceSeconds = 0;
  let overloadSeconds = 0;
  let replicaChanges = 0;
  let peakReplicas = initialReplicas;

  for (let second = 0; second < trace.length; second++) {
    if (starting.length > 0) {
      const still: number[] = [];
      for (const at of starting) {
        if (at <= second) ready++;
        else still.push(at);
      }
      starting = still;
    }
    const demand = trace[second]!;
    const replicas = ready + starting.length;
    readySeries[second] = ready;
    instanceSeconds += replicas;
    if (demand > ready * model.capacity) overloadSeconds++;

    const desired = Math.max(0, Math.round(autoscaler.tick({ second, demand, replicas, ready })));
    if (desired === replicas) continue;
    replicaChanges++;
    if (desired > replicas) {
      // Asked for at the end of this second; serves from `delay` seconds after the next one starts.
      for (let k = replicas; k < desired; k++) {
        starting.push(second + 1 + random.between(model.startDelay.min, model.startDelay.max));
      }
      peakReplicas = Math.max(peakReplicas, desired);
    } else {
      let remove = replicas - desired;
      if (remove > 0 && starting.length > 0) {
        starting.sort((a, b) => a - b);
        const cut = Math.min(remove, starting.length);
        starting = starting.slice(0, starting.length - cut);
        remove -= cut;
      }
      ready -= remove;
    }
  }
  return { instanceSeconds, overloadSeconds, replicaChanges, ready: readySeries, peakReplicas };
}
