// GET /api/live: one EventSource per page. The browser resumes a dropped stream by
// itself with Last-Event-ID (the last batch's revision), with no snapshot and no reload.
// A stream the server refused with an HTTP error is not resumed by EventSource: then a
// new one starts, and its snapshot replaces the board. So does the one after a `reset`
// (compacted, or etcd restored from a backup): every new EventSource starts over
// (state.js startOver), since what the page holds may not be this store's.
import { applyAir, applyCalls, applyEvents, applyStatus, emit, startOver } from './state.js';

const RETRY_MS = 3000;
let source = null;
let streamOpenedAt = null; // performance.now() at the first byte of a stream due a snapshot
let snapshotPending = false;
let stopped = false;

export function startLive() {
  stopped = false;
  connect();
}

export function stopLive() {
  stopped = true;
  if (source) source.close();
  source = null;
}

/** When the current stream's snapshot began arriving (for timings.snapshotDrawnMs). */
export function snapshotStartedAt() {
  return streamOpenedAt;
}

function connect() {
  if (stopped) return;
  startOver();
  snapshotPending = true;
  streamOpenedAt = null;
  source = new EventSource('/api/live', { withCredentials: true });
  const es = source;
  es.addEventListener('open', () => {
    // 'open' fires as the response's head arrives: the stream's first byte.
    if (snapshotPending && streamOpenedAt === null) streamOpenedAt = performance.now();
    emit('connection', 'live');
  });
  es.addEventListener('batch', (e) => {
    const data = JSON.parse(e.data);
    if (applyEvents(data.events || [])) snapshotPending = false;
  });
  es.addEventListener('calls', (e) => applyCalls(JSON.parse(e.data)));
  es.addEventListener('air', (e) => applyAir(JSON.parse(e.data)));
  es.addEventListener('status', (e) => applyStatus(JSON.parse(e.data)));
  es.addEventListener('reset', () => {
    // etcd compacted the revision we would resume from, or has not reached it (restored
    // from a backup): start over with a snapshot that replaces what is held.
    es.close();
    emit('connection', 'reset');
    connect();
  });
  es.addEventListener('error', (e) => {
    if (e.data) {
      // The server's own `event: error`: the gateway refused the watch.
      let error = {};
      try {
        error = JSON.parse(e.data).error || {};
      } catch {
        error = { message: String(e.data) };
      }
      emit('live-error', error);
      if (error.code === 'UNAUTHENTICATED' || error.code === 'PERMISSION_DENIED') {
        stopLive(); // 401 and 403 are not retried
        emit('connection', 'refused');
      }
      return;
    }
    if (es.readyState === EventSource.CLOSED) {
      emit('connection', 'down');
      if (source === es) setTimeout(connect, RETRY_MS);
    } else {
      emit('connection', 'reconnecting'); // EventSource retries with Last-Event-ID
    }
  });
}
