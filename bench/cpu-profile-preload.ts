/**
 * Preloaded into `tsmosh-server` by the report (NODE_OPTIONS=--import=<this file>) to take a CPU
 * profile of the session daemon. Node 20 refuses --cpu-prof in NODE_OPTIONS, and the daemon is
 * spawned without its parent's execArgv, so the profiler is started from inside with the
 * inspector. Only the daemon is profiled; its profile is written, synchronously, when it exits
 * (as `<pid>.cpuprofile` in the directory named by TSMOSH_BENCH_CPUPROF_DIR).
 */
import { writeFileSync } from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';
import { DAEMON_FLAG } from '../server/detach.js';

export const PROFILE_DIR_ENV = 'TSMOSH_BENCH_CPUPROF_DIR';
/** V8's sampling interval, as node --cpu-prof's default. */
const SAMPLING_INTERVAL_US = 1000;

const dir = process.env[PROFILE_DIR_ENV];
if (dir !== undefined && dir !== '' && process.argv.includes(DAEMON_FLAG)) {
  const session = new inspector.Session();
  session.connect();
  // The in-process session answers synchronously, so the profile can be taken in the exit handler.
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (error === null) writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
