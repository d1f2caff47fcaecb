import type { ClusterFaultKind, Fault, FaultParams } from './faults.js';
import type { Rng } from './rng.js';
import type { ChaosWorld } from './world.js';

/**
 * Faults that hit etcd, and so every lane at once: a member killed and
 * restarted, the Raft leader killed and restarted, the whole cluster killed and
 * started again, a member paused (a hung member) and resumed.
 */
export function clusterFault(
  kind: ClusterFaultKind,
  ctx: { world: ChaosWorld; rng: Rng; ttlMs: number },
  params: FaultParams = {},
): Fault {
  const { world, rng, ttlMs } = ctx;
  switch (kind) {
    case 'kill-member':
    case 'kill-raft-leader': {
      let member = -1;
      return {
        kind,
        detail: '',
        holdMs: params.holdMs ?? rng.between(0.5, 2) * ttlMs,
        async inject() {
          member = kind === 'kill-raft-leader' ? await world.raftLeader() : rng.int(world.size);
          this.detail = `SIGKILL etcd member m${member}${kind === 'kill-raft-leader' ? ' (the Raft leader)' : ''}`;
          await world.killMember(member);
        },
        async heal() {
          await world.restartMember(member);
        },
      };
    }
    case 'restart-cluster':
      return {
        kind,
        detail: 'SIGKILL every etcd member, then start them all',
        holdMs: params.holdMs ?? rng.between(0.2, 1) * ttlMs,
        async inject() {
          await world.killAll();
        },
        async heal() {
          await world.restartAll();
        },
      };
    case 'pause-member': {
      let member = -1;
      return {
        kind,
        detail: '',
        holdMs: params.holdMs ?? rng.between(0.5, 1.5) * ttlMs,
        async inject() {
          member = rng.int(world.size);
          this.detail = `SIGSTOP etcd member m${member}`;
          world.pauseMember(member);
        },
        async heal() {
          world.resumeMember(member);
        },
      };
    }
  }
}
