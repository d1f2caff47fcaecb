/** The --help texts (docs/CLI.md shows the same). */

const CONNECTION = `Connection (etcdctl's flags; the environment variable is used when the flag is absent):
  --endpoints E        comma-separated host:port list, http:// or https:// optional
                       (ETCDCTL_ENDPOINTS; default 127.0.0.1:2379)
  --cacert FILE        CA bundle to verify etcd's server certificate; turns TLS on (ETCDCTL_CACERT)
  --cert FILE          client certificate for etcd's --client-cert-auth (ETCDCTL_CERT)
  --key FILE           private key of --cert (ETCDCTL_KEY)
  --insecure-skip-tls-verify
                       accept any server certificate on TLS connections; for testing only
                       (ETCDCTL_INSECURE_SKIP_TLS_VERIFY=true)
  --user NAME[:PASS]   etcd user (ETCDCTL_USER); without :PASS the password comes from
                       --password, ETCDCTL_PASSWORD or LOCKED_PASSWORD
  --password PASS      password of --user (prefer the environment: argv is visible to ps)
  --dial-timeout D     give up when no endpoint accepts a connection within D, e.g. 2s
                       (ETCDCTL_DIAL_TIMEOUT; default 2s for status and resign; run and
                       observe wait for etcd unless it is given)
  --command-timeout D  deadline of one etcd request, e.g. 5s or 500ms
                       (ETCDCTL_COMMAND_TIMEOUT; default 5s)
  Durations: Go's syntax as etcdctl takes it (500ms, 2s, 1m30s; a bare number is seconds),
  from 1ms to 596h.`;

export const MAIN_HELP = `locked — leader election on etcd v3, safe under pauses and partitions

Usage:
  locked run     --path P [flags] -- CMD [ARGS...]   run CMD only while leading P
  locked observe --path P [-w json]                  print a line per leader change
  locked status  --path P [-w json]                  show the leader and the queue
  locked resign  --path P [--token T]                force the current leader to step down
  locked demo    [--duration S] [--timeline F.svg]   a live failover demo on a throwaway etcd

Run "locked COMMAND --help" for a command's flags; "locked --version" (-v) prints the version.

Exit codes:
  0  success            2  bad flags or arguments      4  authentication or permission denied
  1  etcd failure       3  resign: no such leader      126/127  run: CMD cannot be executed / not found
  run also exits with CMD's own code, or 128+N when CMD (or the runner) ended by signal N.
  run checks CMD (on PATH, executable) before it campaigns: 126/127 without ever leading.
`;

export const RUN_HELP = `Usage: locked run --path P [flags] -- CMD [ARGS...]

Campaigns for the election P and runs CMD only while this process leads it.
CMD gets LOCKED_TOKEN (the fencing token of the term), LOCKED_ID, LOCKED_PATH,
LOCKED_VALUE and LOCKED_KEY in its environment; its stdio is the runner's.

When the term ends for any reason, CMD gets SIGTERM and, after the grace,
SIGKILL (with its whole process group); all of it by the term's validity
deadline: the stop begins at deadline − grace when no renewal has pushed the
deadline further. When the runner gets SIGTERM or SIGINT it stops CMD the same
way, resigns and exits (a second signal kills CMD at once). When CMD exits by
itself the runner resigns and exits with CMD's code (--restart: campaigns
again). After a lost term the runner campaigns again. SIGHUP, SIGUSR1 and
SIGUSR2 are forwarded to CMD while it runs.

Flags:
  --path P             election name (key prefix P/), required
  --id I               this candidate's id (default HOSTNAME-PID)
  --value V            value published while leading (default empty)
  --ttl S              lease TTL in whole seconds (default 10)
  --grace MS           milliseconds between SIGTERM and SIGKILL; must be
                       < ttl×(1−drift) − margin − ttl/3, with drift 1 % and margin 50 ms
                       (default: half of that, at most 5000)
  --restart            when CMD exits, campaign again instead of exiting
  --priority N         a finite number (LOCKED_PRIORITY; default 0): waiting candidates are
                       elected highest first, equal ones in join order; a candidate of higher
                       priority than the leader makes it hand over after --preempt-after
  --preempt-after D    how long this candidate waits behind a lower-priority leader before
                       it hands over, e.g. 500ms or 2s (LOCKED_PREEMPT_AFTER; default 1s)
  --metrics-port [H:]P serve Prometheus /metrics and /healthz on H:P (H default 127.0.0.1);
                       /healthz answers 503 while no lease can be proven live
  -q, --quiet          only problems on stderr
  -h, --help           this help

${CONNECTION}

Exit codes: CMD's own code when it exits by itself; 128+N when CMD died of
signal N, or the runner was stopped by signal N (143 SIGTERM, 130 SIGINT);
1 no connection within --dial-timeout; 2 bad flags; 4 permission denied;
126/127 CMD cannot be executed / not found (checked on PATH before campaigning).
`;

export const OBSERVE_HELP = `Usage: locked observe --path P [-w simple|json]

Prints the leader of election P, then a line each time it changes, until
SIGINT/SIGTERM. Follows a watch (no polling); after a connection failure it
re-reads and goes on, saying what failed on stderr (one line per kind of
failure every 2 s at most).

Text lines:  TIME leader ID token TOKEN value "VALUE"   or   TIME no leader
JSON lines:  {"time":…,"path":…,"leader":{"id","value","token","key","lease"}|null,"revision":…}

Flags:
  --path P             election name, required
  -w, --write-out F    simple (default) or json: one JSON object per line (ETCDCTL_WRITE_OUT)
  --json               the same as -w json
  -h, --help           this help

${CONNECTION}

Exit codes: 0 after SIGINT/SIGTERM; 1 no connection within --dial-timeout, or an etcd
failure retrying cannot fix; 2 bad flags; 4 authentication failed or permission denied.
`;

export const STATUS_HELP = `Usage: locked status --path P [-w simple|json]

Shows the leader of election P, its fencing token, and every candidate in the
order they will lead (one consistent read).

Flags:
  --path P             election name, required
  -w, --write-out F    simple (default) or json: one JSON object (ETCDCTL_WRITE_OUT)
  --json               the same as -w json
  -h, --help           this help

${CONNECTION}

Exit codes: 0 read done (also when nobody leads); 1 etcd failure; 2 bad flags; 4 permission denied.
`;

export const RESIGN_HELP = `Usage: locked resign --path P [--token T]

Forces the current leader of P to step down: deletes its key with a guarded
transaction (CreateRevision(key) == token), so a newer leader is never removed.
The old leader learns of the delete by its watch (or, at the latest, at its
next renewal's check of its key) and steps down; a "locked run" leader sends
SIGTERM to its command and SIGKILL after its grace. Since the delete is not
the leader's own resignation, the next locked candidate waits out the old
leader's deadline (up to one TTL) before it leads: never two leaders at once.

Flags:
  --path P             election name, required
  --token T            act only if the leader's token is T
  -h, --help           this help

${CONNECTION}

Exit codes: 0 resigned; 3 no leader, token mismatch, or the leader changed meanwhile;
1 etcd failure; 2 bad flags; 4 permission denied.
`;

export const DEMO_HELP = `Usage: locked demo [--duration S] [--candidates N] [--timeline FILE.svg] [--etcd B]

Starts a throwaway 3-member etcd on free loopback ports (installing Debian's
etcd-server when missing and root), runs N candidate processes in one election
(each through its own cuttable TCP proxy), and injects a fault on the leader
every few seconds, in this order: a graceful stop, a crash (SIGKILL), a pause
(SIGSTOP longer than the TTL, then SIGCONT), a network cut (then healed) and
a preemption (another candidate restarts with a higher priority).
A live view shows who leads, the token, each candidate's state and the last
failover. At the end it prints a summary and the verdict of a split-brain
check over the whole run (every candidate's isSelected() sampled, intervals
checked for overlap and tokens for order). Everything it started is stopped,
even on Ctrl-C.

Flags:
  --duration S         seconds of faults (default 36: each of the five faults once)
  --candidates N       candidate processes, 2 to 9 (default 5)
  --ttl S              lease TTL of the candidates (default 2)
  --timeline FILE.svg  draw who led when, with the faults marked
  --etcd B             etcd build: 3.4 (Debian's system etcd, default), 3.5 or 3.5-sid
                       (fetched into ~/.cache/locked-etcd by scripts/fetch-etcd.sh);
                       the environment variable LOCKED_ETCD does the same
  -h, --help           this help

Output: a live view redrawn in place on a terminal, plain event lines otherwise.

Exit codes: 0 the check passed; 1 it found a split brain or a token regression, or etcd failed;
2 bad flags; 130 interrupted by Ctrl-C (after restoring everything and judging what was recorded).
`;
