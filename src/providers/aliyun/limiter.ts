/**
 * The client-side rate limit for Alibaba Mail's Open API. The server allows 40 requests/s per mail
 * domain, shared with every other app of the domain, and counts them in a window we cannot see. So
 * requests are spaced evenly (a sliding window of one request per slot, p-queue's strict mode)
 * rather than let through in bursts at window edges, with a 2% margin so that network jitter
 * between our start time and the server's arrival time cannot push one request over.
 */
import PQueue from 'p-queue';

const JITTER_MARGIN = 1.02;

export function createRateLimiter(requestsPerSecond: number): PQueue {
  if (!(requestsPerSecond > 0)) throw new RangeError(`requestsPerSecond must be positive, got ${requestsPerSecond}`);
  return new PQueue({ intervalCap: 1, interval: (1000 * JITTER_MARGIN) / requestsPerSecond, strict: true });
}
