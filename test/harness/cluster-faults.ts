import type { ClusterFaultKind, Fault, FaultParams } from './faults.js';
import type { Rng } from './rng.js';
import type { ChaosWorld } from './world.js';

/**
 * Faults that hit etcd, and so every lane at once: a member killed and
 * restarted, the Raft leader killed and restarted, the whole cluster killed and
 * started again, a member paused (a hung member) and resumed: the Raft leader
 * or a follower, half and half by the seed (`FaultParams.member` picks one).
 * A paused Raft leader is the case of etcd-io/etcd#15247: on resuming, etcd
 * builds without the fix may revoke leases the new leader renewed, deleting a
 * leader's key before its lease's deadline (the checker's late leaders).
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
          const which = params.member ?? (rng.next() < 0.5 ? 'raft-leader' : 'follower');
          const leader = await world.raftLeader();
          const followers = [...Array(world.size).keys()].filter((i) => i !== leader);
          member = which === 'raft-leader' ? leader : rng.pick(followers);
          this.detail = `SIGSTOP etcd member m${member} (${member === leader ? 'the Raft leader' : 'a follower'})`;
          world.pauseMember(member);
        },
        async heal() {
          world.resumeMember(member);
        },
      };
    }
  }
}
