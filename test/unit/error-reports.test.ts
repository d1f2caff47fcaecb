import { describe, expect, it } from 'vitest';
import { LockedError } from '../../src/errors.js';
import { ErrorReports } from '../../src/locked/error-reports.js';
import { FakeClock } from './fake-clock.js';

const unavailable = (): LockedError => new LockedError('UNAVAILABLE', 'etcd unreachable');

describe('ErrorReports: one report per step of the backoff', () => {
  it('reports the first failure at once, then at most one per 100, 200, 400 … ms, up to the cap', () => {
    const clock = new FakeClock();
    const reports = new ErrorReports(clock, 1_000);
    const reportedAt: number[] = [];
    // A failure every 10 ms (session, view and campaign together) for 5 s.
    for (let t = 0; t <= 5_000; t += 10) {
      if (reports.admit(unavailable())) reportedAt.push(t);
      clock.advance(10);
    }
    expect(reportedAt).toEqual([0, 100, 300, 700, 1_500, 2_500, 3_500, 4_500]);
  });

  it('never reports one error object twice (the session reports it, the campaign rethrows it)', () => {
    const clock = new FakeClock();
    const reports = new ErrorReports(clock, 5_000);
    const err = unavailable();
    expect(reports.admit(err)).toBe(true);
    clock.advance(10_000);
    expect(reports.admit(err)).toBe(false);
  });

  it('always reports a failure retrying cannot fix', () => {
    const clock = new FakeClock();
    const reports = new ErrorReports(clock, 5_000);
    expect(reports.admit(unavailable())).toBe(true);
    expect(reports.admit(new LockedError('PERMISSION', 'authentication failed'))).toBe(true);
  });

  it('a success ends the outage: the next failure is reported at once', () => {
    const clock = new FakeClock();
    const reports = new ErrorReports(clock, 5_000);
    expect(reports.admit(unavailable())).toBe(true);
    clock.advance(50);
    expect(reports.admit(unavailable())).toBe(false);
    reports.recovered();
    expect(reports.admit(unavailable())).toBe(true);
  });
});
