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
    case 'kill-raft-leader':
      return onMember(kind, params.holdMs ?? rng.between(0.5, 2) * ttlMs, {
        pick: async () => {
          const member = kind === 'kill-raft-leader' ? await world.raftLeader() : rng.int(world.size);
          return {
            member,
            detail: `SIGKILL etcd member m${member}${kind === 'kill-raft-leader' ? ' (the Raft leader)' : ''}`,
          };
        },
        make: (member) => world.killMember(member),
        undo: (member) => world.restartMember(member),
      });
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
    case 'pause-member':
      return onMember(kind, params.holdMs ?? rng.between(0.5, 1.5) * ttlMs, {
        pick: async () => {
          const which = params.member ?? (rng.next() < 0.5 ? 'raft-leader' : 'follower');
          const leader = await world.raftLeader();
          const followers = [...Array(world.size).keys()].filter((i) => i !== leader);
          const member = which === 'raft-leader' ? leader : rng.pick(followers);
          return {
            member,
            detail: `SIGSTOP etcd member m${member} (${member === leader ? 'the Raft leader' : 'a follower'})`,
          };
        },
        make: (member) => world.pauseMember(member),
        undo: (member) => world.resumeMember(member),
      });
  }
}

/** A fault on one etcd member, chosen when injected: `pick` chooses it and says what the fault does to it. */
interface MemberFault {
  readonly pick: () => Promise<{ member: number; detail: string }>;
  readonly make: (member: number) => Promise<void> | void;
  readonly undo: (member: number) => Promise<void> | void;
}

function onMember(kind: ClusterFaultKind, holdMs: number, fault: MemberFault): Fault {
  let member = -1;
  return {
    kind,
    detail: '',
    holdMs,
    async inject() {
      const picked = await fault.pick();
      member = picked.member;
      this.detail = picked.detail;
      await fault.make(member);
    },
    async heal() {
      await fault.undo(member);
    },
  };
}
